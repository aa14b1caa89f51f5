"""Texts sent from a user's NumFree number: the checks, the Twilio call, the metadata log.

The dashboard form and POST /api/messages/ both call send_text; the forwarding
phone's verification code goes through send_logged. Only metadata is logged
(SmsLog): the body goes to Twilio and nowhere else, and once the message's
status is final it is deleted at Twilio too (forwarding.update_status).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from billing.entitlements import can_hold_number
from telephony import twilio_api
from telephony.models import SmsLog, normalize_number
from telephony.numbers import current_number

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)
# Twilio's longest message body (it splits it into segments).
MAX_BODY = 1600
# Twilio errors that mean "not a number a text can go to"
# (https://www.twilio.com/docs/api/errors): invalid To, unreachable, cannot
# route, not a mobile, region not enabled, To and From the same.
RECIPIENT_INVALID_CODES = {21211, 21214, 21408, 21612, 21614, 21266}
# The recipient replied STOP to this number.
RECIPIENT_OPTED_OUT_CODE = 21610


class SendError(Exception):
    """Why a text was not sent: an error code, a sentence for people, an HTTP status."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def send_text(user: User, to: str, body: str) -> SmsLog:
    """Send a text the user wrote from their number; raises SendError (nothing sent, nothing logged)."""
    our_number = current_number(user)
    if our_number is None:
        raise SendError("no_number", "Get a NumFree number first: texts are sent from it.", 403)
    if not can_hold_number(user):
        raise SendError("plan_required", "Sending texts needs an active plan.", 403)
    recipient = normalize_number(to)
    if not recipient:
        raise SendError("sms_to_invalid", "Enter a phone number with its country code, like +14155550123.", 400)
    if not body.strip():
        raise SendError("sms_body_empty", "Write something to send.", 400)
    if len(body) > MAX_BODY:
        raise SendError("sms_body_too_long", f"A text is at most {MAX_BODY} characters; this one has {len(body)}.", 400)
    try:
        return send_logged(user, our_number, recipient, body)
    except twilio_api.TelephonyError as exc:
        raise _send_error(exc) from None


def _send_error(exc: twilio_api.TelephonyError) -> SendError:
    if isinstance(exc, twilio_api.TwilioUnreachable):
        return SendError("telephony_unavailable", "The phone network did not answer; try again shortly.", 503)
    if exc.code in RECIPIENT_INVALID_CODES:
        return SendError("sms_to_invalid", f"A text cannot be sent to that number (Twilio error {exc.code}).", 400)
    if exc.code == RECIPIENT_OPTED_OUT_CODE:
        return SendError(
            "sms_recipient_opted_out",
            "That number replied STOP to yours: texts to it are refused until it replies START.",
            400,
        )
    return SendError("telephony_unavailable", str(exc), 503)


def send_logged(user: User, our_number: str, to: str, body: str) -> SmsLog:
    """Send through Twilio and log the metadata (raises twilio_api.TelephonyError)."""
    sent = twilio_api.send_sms(our_number, to, body)
    log, _ = SmsLog.objects.get_or_create(
        message_sid=sent.sid,
        defaults={
            "user": user,
            "direction": "out",
            "peer_number": to,
            "our_number": our_number,
            "segments": sent.segments,
            "status": sent.status,
        },
    )
    logger.info("sms %s sent (%d segments)", log.pk, log.segments)
    return log
