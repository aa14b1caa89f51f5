"""Voicemail: take the recording from Twilio into private storage, delete it there, tell the user."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse

from numfree.mail import queue_email
from numfree.outbox import PermanentFailure, enqueue
from telephony import twilio_api
from telephony.models import CallLog, Voicemail
from telephony.people import People

logger = logging.getLogger(__name__)


def receive_recording(params: Mapping[str, str]) -> None:
    """A recording status callback (signature-checked). Redelivery changes nothing."""
    recording_sid, call_sid = params.get("RecordingSid", ""), params.get("CallSid", "")
    if not recording_sid:
        return
    log = CallLog.objects.filter(kind=CallLog.KIND_PHONE, external_id=call_sid).first()
    if log is None or params.get("RecordingStatus", "completed") != "completed":
        # Not a call of ours, or a failed recording: make sure Twilio keeps nothing.
        enqueue("telephony.delete_recording", {"sid": recording_sid}, dedupe_key=f"delete-recording:{recording_sid}")
        return
    try:
        with transaction.atomic():
            voicemail = Voicemail.objects.create(
                user_id=log.user_id,
                recording_sid=recording_sid,
                call_sid=call_sid,
                peer_number=log.peer_number,
                duration_s=max(0, int(params.get("RecordingDuration", "0") or 0)),
            )
            CallLog.objects.filter(pk=log.pk).update(missed=True)
            enqueue(
                "telephony.fetch_voicemail", {"voicemail_id": voicemail.pk}, dedupe_key=f"voicemail:{recording_sid}"
            )
    except IntegrityError:
        return
    logger.info("voicemail %s recorded", voicemail.pk)


def fetch_voicemail(payload: dict) -> None:
    """Outbox job: copy the audio into private storage, delete it at Twilio, email a notice."""
    voicemail = Voicemail.objects.select_related("user").filter(pk=payload["voicemail_id"]).first()
    if voicemail is None:
        return
    if not voicemail.audio:
        try:
            audio = twilio_api.fetch_recording(voicemail.recording_sid)
        except twilio_api.NotFoundAtTwilio:
            raise PermanentFailure("the recording is no longer at Twilio") from None
        voicemail.audio.save(f"{voicemail.recording_sid}.mp3", ContentFile(audio), save=True)
        link = settings.PUBLIC_URL.rstrip("/") + reverse("telephony:voicemail-list")
        people = People.about(voicemail.user, voicemail.peer_number)  # as the pages show it
        queue_email(
            to=voicemail.user.email,
            subject=f"New voicemail from {people.who(voicemail.peer_number)}",
            template="telephony/email/voicemail.txt",
            context={
                "sender": people.who_with_number(voicemail.peer_number),
                "seconds": voicemail.duration_s,
                "link": link,
            },
        )
    enqueue(
        "telephony.delete_recording",
        {"sid": voicemail.recording_sid},
        dedupe_key=f"delete-recording:{voicemail.recording_sid}",
    )


def delete_recording_at_twilio(payload: dict) -> None:
    try:
        twilio_api.delete_recording(payload["sid"])
    except twilio_api.TwilioUnreachable:
        raise
    except twilio_api.TelephonyError as exc:
        raise PermanentFailure(f"Twilio refused to delete a recording (error {exc.code})") from None


def delete_voicemail(voicemail: Voicemail) -> None:
    """The owner deleted it: the audio file and the row go."""
    if voicemail.audio:
        voicemail.audio.delete(save=False)
    voicemail.delete()
