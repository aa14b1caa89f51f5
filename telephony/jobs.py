"""Outbox jobs of the numbers app: forwarding texts, voicemail, deleting at Twilio.

Deletions at Twilio are idempotent (already gone counts as done) and retry for
30 days, at most 6 h apart (privacy.erasure.provider_deletion_job): a text
Twilio is still handling answers 20009, sometimes for days.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from numfree.outbox import job, periodic
from privacy.erasure import provider_deletion_job
from telephony import forwarding, numbers, reconcile, twilio_fake, twilio_fake_callbacks, voicemail

# A user's texts form one sequence (in the order received), so the oldest one
# holds the rest back: it is retried at most 30 s apart, so the backlog goes out
# within a minute of mail coming back, for as long as the undeliverable window lasts.
job(
    "telephony.forward_sms",
    retry_for=timedelta(hours=settings.SMS_UNDELIVERABLE_HOURS),
    max_delay=timedelta(seconds=30),
    on_expire=forwarding.sms_not_forwarded,
)(forwarding.forward_sms)
# Texts whose webhook never reached the database (telephony/reconcile.py). Every 60 s by default:
# one list request per number per minute is far below Twilio's API limits, and a lost text then
# arrives at most about a minute late (a spooled one sooner: the web process drains its spool).
periodic("telephony.reconcile_texts", every=timedelta(seconds=settings.SMS_RECONCILE_SECONDS))(
    reconcile.reconcile_texts
)
job("telephony.fetch_voicemail", max_attempts=30)(voicemail.fetch_voicemail)
# The fake Twilio's side (embedded mode and tests): the carrier takes a text, status callbacks.
job("telephony.fake_twilio_finish", max_attempts=3)(twilio_fake.finish_message_job)
job("telephony.fake_twilio_callback", max_attempts=12)(twilio_fake_callbacks.deliver)
provider_deletion_job("telephony.delete_message")(forwarding.delete_message_at_twilio)
provider_deletion_job("telephony.delete_recording")(voicemail.delete_recording_at_twilio)
provider_deletion_job("telephony.release_number")(numbers.release_at_twilio)
