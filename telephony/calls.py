"""Calls to a NumFree number: the TwiML that routes them and the call log.

A blocked caller is rejected; do-not-disturb goes straight to voicemail;
otherwise the user's verified phone rings (caller ID passed through) and an
unanswered call goes to the greeting and a voicemail recording. No call audio
is recorded outside voicemail.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from twilio.twiml.voice_response import Dial, VoiceResponse

from billing.entitlements import can_hold_number
from telephony.forwarding import is_blocked
from telephony.models import CALL_STATUS_ORDER, CallLog, Forwarding
from telephony.numbers import owner_of

logger = logging.getLogger(__name__)
UNANSWERED = {"no-answer", "busy", "failed", "canceled"}


def _url(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path


def _voicemail(forwarding: Forwarding | None) -> str:
    response = VoiceResponse()
    response.say(forwarding.greeting_text() if forwarding else settings.VOICEMAIL_DEFAULT_GREETING)
    response.record(
        max_length=settings.VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        action=_url("/webhooks/twilio/voice/?step=recorded"),
        method="POST",
        recording_status_callback=_url("/webhooks/twilio/voicemail/"),
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    response.hangup()
    return str(response)


def _reject() -> str:
    response = VoiceResponse()
    response.reject(reason="rejected")
    return str(response)


def _hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def _log_for(params: Mapping[str, str]) -> CallLog | None:
    sid = params.get("CallSid", "")
    return CallLog.objects.select_related("user").filter(kind=CallLog.KIND_PHONE, external_id=sid).first()


def answer(params: Mapping[str, str]) -> str:
    """TwiML for a call to one of our numbers; the same answer when Twilio asks twice."""
    step = params.get("step", "")
    if step == "dialed":
        return after_dial(params)
    if step == "recorded":
        return _hangup()
    sid, caller, to = params.get("CallSid", ""), params.get("From", ""), params.get("To", "")
    number = owner_of(to)
    if number is None or not sid:
        return _reject()
    user = number.user
    forwarding = Forwarding.objects.filter(user=user).first()
    blocked = is_blocked(user.pk, caller)
    log = CallLog.objects.filter(user=user, kind=CallLog.KIND_PHONE, external_id=sid).first()
    if log is None:
        try:
            with transaction.atomic():
                log = CallLog.objects.create(
                    user=user,
                    kind=CallLog.KIND_PHONE,
                    direction="in",
                    external_id=sid,
                    peer_number=caller[:32],
                    status="blocked" if blocked else "ringing",
                    blocked=blocked,
                    end_reason="blocked" if blocked else "",
                    ended_at=timezone.now() if blocked else None,
                )
        except IntegrityError:
            pass
    if blocked or not can_hold_number(user):
        return _reject()
    if forwarding is None or forwarding.do_not_disturb or not forwarding.ring_phone():
        CallLog.objects.filter(user=user, kind=CallLog.KIND_PHONE, external_id=sid).update(missed=True)
        return _voicemail(forwarding)
    response = VoiceResponse()
    dial = Dial(
        timeout=settings.RING_SECONDS,
        caller_id=caller,
        action=_url("/webhooks/twilio/voice/?step=dialed"),
        method="POST",
        answer_on_bridge=True,
    )
    dial.number(forwarding.ring_phone())
    response.append(dial)
    return str(response)


def after_dial(params: Mapping[str, str]) -> str:
    """Twilio tells how ringing the user's phone went: answered -> done, else voicemail."""
    log = _log_for(params)
    if log is None:
        return _hangup()
    dial_status = params.get("DialCallStatus", "")
    if dial_status in UNANSWERED:
        CallLog.objects.filter(pk=log.pk).update(missed=True)
        return _voicemail(Forwarding.objects.filter(user=log.user).first())
    if dial_status in {"completed", "answered"}:
        duration = int(params.get("DialCallDuration", "0") or 0)
        if log.answered_at is None:
            answered_at = timezone.now() - timedelta(seconds=duration)
            CallLog.objects.filter(pk=log.pk, answered_at__isnull=True).update(answered_at=answered_at, missed=False)
    return _hangup()


def update_status(params: Mapping[str, str]) -> None:
    """A call status callback: status only moves forward; the final one ends the log."""
    status = params.get("CallStatus", "")
    rank = CALL_STATUS_ORDER.get(status)
    log = _log_for(params)
    if log is None or rank is None:
        return
    behind = [name for name, order in CALL_STATUS_ORDER.items() if order < rank] + [""]
    changes: dict[str, object] = {"status": status}
    if rank >= CALL_STATUS_ORDER["completed"]:
        changes["ended_at"] = timezone.now()
        changes["end_reason"] = status
        changes["duration_s"] = max(0, int(params.get("CallDuration", "0") or 0))
        if status in UNANSWERED:
            changes["missed"] = True
    updated = CallLog.objects.filter(pk=log.pk, status__in=behind).update(**changes)
    if updated:
        logger.info("call %s is %s", log.pk, status)
