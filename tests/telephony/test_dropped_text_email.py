"""The email about a text NumFree had to drop gives the time it arrived in the user's zone, labelled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail

from accounts.models import User
from numfree.outbox.testing import run_pending
from telephony.forwarding import sms_not_forwarded
from telephony.models import SmsLog

pytestmark = pytest.mark.django_db

RECEIVED = datetime(2026, 1, 15, 20, 5, tzinfo=UTC)


def _dropped_email_body(user: User, received: datetime = RECEIVED) -> str:
    log = SmsLog.objects.create(
        user=user,
        direction="in",
        message_sid="SM" + "d" * 32,
        peer_number="+14155550177",
        our_number="+14155550000",
        status="received",
        created_at=received,
    )
    sms_not_forwarded({"log_id": log.pk})
    run_pending()
    assert [message.to for message in mail.outbox] == [[user.email]]
    return mail.outbox[0].body


def test_the_time_is_in_the_users_zone_and_says_which(alice) -> None:
    User.objects.filter(pk=alice.pk).update(time_zone="America/Los_Angeles")
    body = _dropped_email_body(User.objects.get(pk=alice.pk))
    assert "(received 15 Jan 2026, 12:05 PST)" in body
    assert "UTC" not in body and "+00:00" not in body


def test_without_a_zone_the_time_is_labelled_utc(alice) -> None:
    assert alice.time_zone == ""
    assert "(received 15 Jan 2026, 20:05 UTC)" in _dropped_email_body(alice)


def test_the_label_follows_daylight_saving_time(alice) -> None:
    User.objects.filter(pk=alice.pk).update(time_zone="Europe/Paris")
    body = _dropped_email_body(User.objects.get(pk=alice.pk), datetime(2026, 7, 15, 20, 5, tzinfo=UTC))
    assert "(received 15 Jul 2026, 22:05 CEST)" in body
