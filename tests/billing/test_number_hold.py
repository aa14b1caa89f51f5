"""Grace and hold timelines: a number survives the grace period and the hold, comes back on resubscription,
and is released only after the hold, with the release date told ahead of time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from billing.entitlements import can_hold_number, number_held_until
from billing.fake_stripe import simulation
from numfree.outbox.testing import run_pending
from telephony import numbers

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _get_a_number(user) -> str:  # type: ignore[no-untyped-def]
    found = numbers.search(user, "US", "415")
    numbers.buy(user, found[0].e164, "US")
    return numbers.current_number(user)


def _run_worker() -> list[str]:
    """Run due jobs (including billing's periodic hold job); the subjects of the emails they sent."""
    mail.outbox.clear()
    run_pending(periodic=True)
    return [message.subject for message in mail.outbox]


def test_past_due_keeps_service_through_grace_then_holds_the_number_until_payment_restores_it(
    clock, alice, alice_stripe
):
    alice_stripe.subscribe()
    number = _get_a_number(alice)
    clock.shift(timedelta(days=30))
    alice_stripe.fail_payment()
    assert "until April 8, 2026" in alice_stripe.page()

    clock.shift(timedelta(days=6, hours=23))  # grace (7 days) not over yet
    assert can_hold_number(alice)
    assert not any("service stopped" in subject for subject in _run_worker())

    clock.shift(timedelta(hours=2))  # grace over: service stops, the number is held
    assert not can_hold_number(alice)
    assert number_held_until(alice) == START + timedelta(days=30 + 7 + 30)
    subjects = _run_worker()
    assert "Your NumFree service stopped; your number is kept until May 8, 2026" in subjects
    assert numbers.current_number(alice) == number
    page = alice_stripe.page()
    assert "keeping your number until" in page and "May 8, 2026" in page

    clock.shift(timedelta(days=27, hours=1))  # 3 days before release: the reminder
    assert "Your NumFree number will be released on May 8, 2026" in _run_worker()
    assert numbers.current_number(alice) == number

    simulation.pay_open_invoice(alice_stripe.account().stripe_subscription_id)  # card updated in the portal
    alice_stripe.deliver()
    assert can_hold_number(alice)
    clock.shift(timedelta(days=10))  # well past the old release date
    _run_worker()
    assert numbers.current_number(alice) == number


def test_a_canceled_subscription_holds_the_number_and_releases_it_only_after_the_hold(clock, alice, alice_stripe):
    alice_stripe.subscribe()
    number = _get_a_number(alice)
    clock.shift(timedelta(days=10))
    alice_stripe.cancel()
    assert not can_hold_number(alice)
    assert "Your NumFree service stopped; your number is kept until April 11, 2026" in _run_worker()

    clock.shift(timedelta(days=30) - timedelta(minutes=1))
    _run_worker()
    assert numbers.current_number(alice) == number

    clock.shift(timedelta(minutes=20))
    assert "Your NumFree number was released" in _run_worker()
    assert numbers.current_number(alice) is None
    _run_worker()  # released once, not again
    assert not mail.outbox

    alice_stripe.subscribe()
    assert can_hold_number(alice)
    assert number_held_until(alice) is None


def test_resubscribing_during_the_hold_keeps_the_same_number(clock, alice, alice_stripe):
    alice_stripe.subscribe()
    number = _get_a_number(alice)
    clock.shift(timedelta(days=5))
    alice_stripe.cancel()
    _run_worker()
    clock.shift(timedelta(days=20))
    alice_stripe.subscribe("yearly")
    assert can_hold_number(alice)
    clock.shift(timedelta(days=60))
    assert not any("released" in subject for subject in _run_worker())
    assert numbers.current_number(alice) == number


def test_a_checkout_never_completed_holds_nothing_and_grants_nothing(alice, alice_client):
    response = alice_client.post("/dashboard/billing/checkout/", {"plan": "monthly"})
    assert response.status_code == 302
    assert not can_hold_number(alice)
    assert number_held_until(alice) is None
