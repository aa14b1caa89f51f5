"""Reconciliation: Twilio's own record of inbound texts is the source of truth.

A text whose webhook never reached the database (a database outage before the
spool existed, a web process killed mid-request, a webhook lost on the way)
stays at Twilio, since NumFree deletes a text there only once it has taken it.
Every SMS_RECONCILE_SECONDS the worker lists, for each number, the inbound
texts Twilio holds since the number's high-water mark (minus an overlap, so a
text Twilio files a little late is not skipped) and receives every MessageSid
it has no log of, exactly as the webhook would (`forwarding.receive_sms`,
idempotent by MessageSid): forwarded by email, then deleted at Twilio.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from telephony import forwarding, sms_spool, twilio_api
from telephony.models import PhoneNumber, SmsLog

logger = logging.getLogger(__name__)
# Twilio's list is eventually consistent and clocks differ: each check looks this far behind the last.
OVERLAP = timedelta(minutes=5)


def reconcile_texts(payload: dict) -> None:
    """Periodic outbox job: spooled texts first (this host's), then every number against Twilio."""
    try:
        while sms_spool.drain():
            pass
    except sms_spool.DatabaseDown:
        return  # the next run tries again
    unreachable: twilio_api.TelephonyError | None = None
    for number in PhoneNumber.objects.order_by("pk"):
        try:
            reconcile_number(number)
        except twilio_api.TelephonyError as exc:
            unreachable = exc  # the other numbers still get their check; this one's mark stays
    if unreachable is not None:
        raise unreachable


def reconcile_number(number: PhoneNumber, now: datetime | None = None) -> int:
    """Receive the number's texts at Twilio that we have no log of; returns how many. The high-water
    mark moves to the check's start only once every text listed was received."""
    started = now or timezone.now()
    mark = number.texts_checked_until or number.bought_at
    since = max(number.bought_at, mark - OVERLAP)
    messages = twilio_api.inbound_messages(number.e164, since)
    seen = set(SmsLog.objects.filter(message_sid__in=[m.sid for m in messages]).values_list("message_sid", flat=True))
    received = 0
    for message in messages:
        if message.sid in seen:
            continue
        seen.add(message.sid)
        params = {
            "MessageSid": message.sid,
            "From": message.sender,
            "To": message.to,
            "Body": message.body,
            "NumMedia": str(len(message.media_urls)),
            "NumSegments": str(message.segments),
            **{f"MediaUrl{index}": url for index, url in enumerate(message.media_urls)},
        }
        forwarding.receive_sms(params)
        received += 1
    if len(messages) >= twilio_api.INBOUND_LIST_LIMIT:
        # Twilio lists newest first: older texts may lie beyond the limit, so the mark stays.
        logger.warning("reconciliation of number %s listed the most texts it takes at once", number.pk)
        return received
    PhoneNumber.objects.filter(pk=number.pk).filter(
        Q(texts_checked_until__isnull=True) | Q(texts_checked_until__lt=started)
    ).update(texts_checked_until=started)
    if received:
        logger.warning("reconciliation received %d sms for number %s that no webhook delivered", received, number.pk)
    return received
