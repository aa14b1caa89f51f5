"""Texts held back by a mail outage are emailed in the order received, and the backlog goes out
within a minute of the mail server answering again."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.utils import timezone

from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending
from telephony import twilio_api
from telephony.models import PhoneNumber
from tests.conftest import make_user
from tests.telephony.conftest import give_plan, inbound_sms_params, signed_post

pytestmark = pytest.mark.django_db
START = datetime(2030, 1, 1, 12, tzinfo=UTC)


class OutageBackend(LocmemBackend):
    """An SMTP server that is down until `up_at`; records when each body was accepted."""

    up_at: datetime = START
    delivered: list[tuple[str, datetime]] = []

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        if timezone.now() < OutageBackend.up_at:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        for message in messages:
            OutageBackend.delivered.append((message.body, timezone.now()))
        return len(messages)


@pytest.fixture
def mail_server(settings):  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = f"{__name__}.OutageBackend"
    OutageBackend.delivered = []
    return OutageBackend


def number_for(email: str) -> PhoneNumber:
    user = make_user(email)
    give_plan(user)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    return PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country="US")


def text(number: PhoneNumber, body: str) -> None:
    from django.test import Client

    response = signed_post(Client(), "/webhooks/twilio/sms/", inbound_sms_params(number.e164, body=body))
    assert response.status_code == 200


def forwarded_bodies(email_bodies: list[tuple[str, datetime]], marker: str) -> list[str]:
    return [line for body, _ in email_bodies for line in body.splitlines() if line.startswith(marker)]


def test_texts_held_back_by_a_three_hour_mail_outage_arrive_in_order_within_a_minute_of_recovery(
    mail_server, time_machine
):
    alice, bob = number_for("alice@example.com"), number_for("bob@example.com")
    mail_server.up_at = START + timedelta(hours=3)
    time_machine.move_to(START, tick=False)
    now = START
    # 20 texts each, a minute apart, interleaved; a worker looks every 30 s during the
    # outage, then every 5 s (a real one polls every second).
    for minute in range(20):
        text(alice, f"alice-{minute:02d}")
        text(bob, f"bob-{minute:02d}")
        for _ in range(2):
            now += timedelta(seconds=30)
            time_machine.move_to(now, tick=False)
            run_pending()
    while Job.objects.filter(kind="telephony.forward_sms").exists():
        assert now < mail_server.up_at + timedelta(hours=2), "the backlog was not delivered"
        now += timedelta(seconds=30 if now < mail_server.up_at else 5)
        time_machine.move_to(now, tick=False)
        run_pending()

    delivered = mail_server.delivered
    assert forwarded_bodies(delivered, "alice-") == [f"alice-{m:02d}" for m in range(20)]
    assert forwarded_bodies(delivered, "bob-") == [f"bob-{m:02d}" for m in range(20)]
    last = max(at for _, at in delivered)
    assert last - mail_server.up_at <= timedelta(minutes=1), last - mail_server.up_at


def test_a_users_later_text_waits_for_the_earlier_one_but_another_users_does_not(mail_server, time_machine):
    alice, bob = number_for("alice@example.com"), number_for("bob@example.com")
    mail_server.up_at = START + timedelta(minutes=10)
    time_machine.move_to(START, tick=False)
    text(alice, "alice-first")
    run_pending()  # fails: mail is down
    mail_server.up_at = START  # mail is back before alice's first text is retried
    text(alice, "alice-second")
    text(bob, "bob-only")
    run_pending()

    assert forwarded_bodies(mail_server.delivered, "alice-") == []
    assert forwarded_bodies(mail_server.delivered, "bob-") == ["bob-only"]
    time_machine.move_to(START + timedelta(seconds=30), tick=False)
    run_pending()
    assert forwarded_bodies(mail_server.delivered, "alice-") == ["alice-first", "alice-second"]
