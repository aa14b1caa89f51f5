"""Outbox jobs of the numbers app: forwarding texts, voicemail, deleting at Twilio.

Deletions at Twilio are idempotent (already gone counts as done) and retry for
30 days, at most 6 h apart (privacy.erasure.provider_deletion_job): a text
Twilio is still handling answers 20009, sometimes for days.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from numfree.outbox import job
from privacy.erasure import provider_deletion_job
from telephony import forwarding, numbers, voicemail

# Retries back off up to an hour, so this many attempts outlast the
# undeliverable window; expiry (not the attempt count) ends the wait.
_FORWARD_ATTEMPTS = settings.SMS_UNDELIVERABLE_HOURS * 2 + 20

job(
    "telephony.forward_sms",
    max_attempts=_FORWARD_ATTEMPTS,
    expires_after=timedelta(hours=settings.SMS_UNDELIVERABLE_HOURS),
    on_expire=forwarding.sms_not_forwarded,
)(forwarding.forward_sms)
job("telephony.fetch_voicemail", max_attempts=30)(voicemail.fetch_voicemail)
provider_deletion_job("telephony.delete_message")(forwarding.delete_message_at_twilio)
provider_deletion_job("telephony.delete_recording")(voicemail.delete_recording_at_twilio)
provider_deletion_job("telephony.release_number")(numbers.release_at_twilio)
