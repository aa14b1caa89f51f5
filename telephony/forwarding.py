"""Texts to a NumFree number: log the metadata, email the body, then delete it at Twilio.

The body is never stored by NumFree beyond the encrypted outbox row that
carries it to the email; the outbox erases it once the email is sent. A body
that cannot be emailed within SMS_UNDELIVERABLE_HOURS is dropped and the user
is told that a message from that number could not be forwarded.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing.entitlements import can_hold_number_loaded
from numfree.mail import queue_email
from numfree.outbox import PermanentFailure, enqueue
from telephony import twilio_api
from telephony.models import SMS_STATUS_ORDER, BlockedNumber, Forwarding, SmsLog
from telephony.numbers import recipient_of
from telephony.people import People

logger = logging.getLogger(__name__)
MAX_MEDIA = 10
# Statuses after which Twilio does nothing more with a text we sent.
FINAL_OUTBOUND_STATUSES = {"delivered", "undelivered", "failed", "canceled"}


def _small_int(value: str | None, default: int) -> int:
    try:
        return max(0, min(int(value or default), 100))
    except ValueError:
        return default


def is_blocked(user_id: int, number: str) -> bool:
    return BlockedNumber.objects.filter(user_id=user_id, number=number).exists()


def receive_sms(params: Mapping[str, str]) -> None:
    """An inbound-SMS webhook (already signature-checked). Redelivery changes nothing."""
    sid, to, sender = params.get("MessageSid", ""), params.get("To", ""), params.get("From", "")
    if not sid:
        return
    number = recipient_of(to, sender)  # one SELECT: the number, its user, billing state, blocked
    if number is None:
        logger.warning("sms for a number no account holds; deleting it at Twilio")
        enqueue("telephony.delete_message", {"sid": sid}, dedupe_key=f"delete-message:{sid}")
        return
    user = number.user
    media_count = _small_int(params.get("NumMedia"), 0)
    blocked = number.sender_blocked
    # A number on hold (plan ended) still logs texts but forwards none.
    in_service = can_hold_number_loaded(user)  # read with the number: no query
    try:
        with transaction.atomic():
            log = SmsLog.objects.create(
                user=user,
                direction="in",
                message_sid=sid,
                peer_number=sender[:32],
                our_number=to,
                segments=_small_int(params.get("NumSegments"), 1) or 1,
                media_count=media_count,
                status="received",
                blocked=blocked,
                dropped=not blocked and not in_service,
            )
            if blocked or not in_service:
                enqueue("telephony.delete_message", {"sid": sid}, dedupe_key=f"delete-message:{sid}")
            else:
                media = [params.get(f"MediaUrl{i}", "") for i in range(min(media_count, MAX_MEDIA))]
                enqueue(
                    "telephony.forward_sms",
                    {
                        "log_id": log.pk,
                        "from": sender,
                        "body": params.get("Body", ""),
                        "media": [m for m in media if m],
                    },
                    dedupe_key=f"forward-sms:{sid}",
                    # One user's texts are emailed in the order received, even after an outage.
                    sequence=f"forward-sms:{user.pk}",
                )
    except IntegrityError:
        return  # a redelivery: the first delivery already did everything
    logger.info("sms %s received (blocked=%s, media=%d)", log.pk, blocked, media_count)


def forward_sms(payload: dict) -> None:
    """Outbox job: email the body (and media) to the user, then delete it at Twilio."""
    log = SmsLog.objects.select_related("user").filter(pk=payload["log_id"]).first()
    if log is None:
        return  # the account was deleted meanwhile: nothing to forward to
    if log.forwarded_at is None:
        attachments = []
        for index, url in enumerate(payload.get("media", [])):
            try:
                content, content_type = twilio_api.fetch_media(url)
            except twilio_api.NotFoundAtTwilio:
                continue
            extension = content_type.rsplit("/", 1)[-1].split(";")[0][:8]
            attachments.append((f"attachment-{index + 1}.{extension}", content, content_type))
        forwarding = Forwarding.objects.filter(user=log.user).first()
        to = forwarding.forwarding_email() if forwarding else log.user.email
        people = People.about(log.user, log.peer_number)  # names and numbers as the pages show them
        context = {
            "sender": people.who_with_number(log.peer_number),
            "number": people.number(log.our_number),
            "body": payload["body"],
            "log": log,
        }
        message = EmailMessage(
            subject=f"Text from {people.who(log.peer_number)}",
            body=render_to_string("telephony/email/sms_forward.txt", context),
            to=[to],
            attachments=attachments,
        )
        message.send()  # raises while mail is down: the outbox retries
        SmsLog.objects.filter(pk=log.pk).update(forwarded_at=timezone.now())
        logger.info("sms %s forwarded", log.pk)
    enqueue("telephony.delete_message", {"sid": log.message_sid}, dedupe_key=f"delete-message:{log.message_sid}")


def sms_not_forwarded(payload: dict) -> None:
    """The body could not be emailed in time: it is dropped; tell the user who wrote."""
    log = SmsLog.objects.select_related("user").filter(pk=payload["log_id"]).first()
    if log is None:
        return
    SmsLog.objects.filter(pk=log.pk).update(dropped=True)
    people = People.about(log.user, log.peer_number)
    queue_email(
        to=log.user.email,
        subject=f"A text from {people.who(log.peer_number)} could not be forwarded",
        template="telephony/email/sms_dropped.txt",
        context={
            "sender": people.who_with_number(log.peer_number),
            "sender_short": people.who(log.peer_number),
            "received_at": log.created_at,
            "zone": log.user.time_zone,  # the email shows the time in it (sms_dropped.txt)
            "hours": settings.SMS_UNDELIVERABLE_HOURS,
        },
    )
    enqueue("telephony.delete_message", {"sid": log.message_sid}, dedupe_key=f"delete-message:{log.message_sid}")
    logger.warning("sms %s dropped after %d hours undeliverable", log.pk, settings.SMS_UNDELIVERABLE_HOURS)


def delete_message_at_twilio(payload: dict) -> None:
    """Outbox job: delete a message and its media at Twilio (retried while in progress)."""
    try:
        twilio_api.delete_message(payload["sid"])
    except twilio_api.NotYetDeletable:
        raise  # Twilio has not finished with it; the outbox retries later
    except twilio_api.TwilioUnreachable:
        raise
    except twilio_api.TelephonyError as exc:
        raise PermanentFailure(f"Twilio refused to delete a message (error {exc.code})") from None
    SmsLog.objects.filter(message_sid=payload["sid"]).update(deleted_at_twilio=True)


def update_status(params: Mapping[str, str]) -> None:
    """A message status callback: the log's status only ever moves forward, and a
    text we sent is deleted at Twilio once its status is final."""
    sid = params.get("MessageSid", "")
    status = params.get("MessageStatus") or params.get("SmsStatus") or ""
    rank = SMS_STATUS_ORDER.get(status)
    if not sid or rank is None:
        return
    behind = [name for name, order in SMS_STATUS_ORDER.items() if order < rank]
    SmsLog.objects.filter(message_sid=sid, status__in=behind).update(status=status)
    if (
        status in FINAL_OUTBOUND_STATUSES
        and SmsLog.objects.filter(message_sid=sid, direction="out", deleted_at_twilio=False).exists()
    ):
        # A text we sent is done at Twilio: delete it there too ("not stored").
        enqueue("telephony.delete_message", {"sid": sid}, dedupe_key=f"delete-message:{sid}")


UNDELIVERABLE_AFTER = timedelta(hours=settings.SMS_UNDELIVERABLE_HOURS)
