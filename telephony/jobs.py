"""Outbox jobs of the numbers app: forwarding texts, voicemail, deleting at Twilio."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from numfree.outbox import job
from telephony import forwarding, voicemail

# Retries back off up to an hour, so this many attempts outlast the
# undeliverable window; expiry (not the attempt count) ends the wait.
_FORWARD_ATTEMPTS = settings.SMS_UNDELIVERABLE_HOURS * 2 + 20

job(
    "telephony.forward_sms",
    max_attempts=_FORWARD_ATTEMPTS,
    expires_after=timedelta(hours=settings.SMS_UNDELIVERABLE_HOURS),
    on_expire=forwarding.sms_not_forwarded,
)(forwarding.forward_sms)
job("telephony.delete_message", max_attempts=30)(forwarding.delete_message_at_twilio)
job("telephony.fetch_voicemail", max_attempts=30)(voicemail.fetch_voicemail)
job("telephony.delete_recording", max_attempts=30)(voicemail.delete_recording_at_twilio)
