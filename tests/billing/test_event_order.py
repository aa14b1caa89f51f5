"""Stripe delivers late, twice and out of order: the final state always equals the subscription's real state."""

from __future__ import annotations

import random

import pytest

from billing.entitlements import can_hold_number
from billing.fake_stripe import simulation, store
from billing.models import BillingAccount, StripeEvent
from tests.billing.conftest import post_event

DELIVERIES = 200


def _replay_shuffled(client, user, events, seed):  # type: ignore[no-untyped-def]
    """Forget what the events did, then deliver DELIVERIES of them (each at least once) in a random order."""
    rng = random.Random(seed)
    customer = BillingAccount.objects.get(user=user).stripe_customer_id
    BillingAccount.objects.filter(user=user).delete()
    BillingAccount.objects.create(user=user, stripe_customer_id=customer)
    StripeEvent.objects.all().delete()
    deliveries = list(events) + [rng.choice(events) for _ in range(DELIVERIES - len(events))]
    rng.shuffle(deliveries)
    for event in deliveries:
        assert post_event(client, event).status_code == 200


def _real_state(user):  # type: ignore[no-untyped-def]
    customer = BillingAccount.objects.get(user=user).stripe_customer_id
    subscriptions = store.subscriptions_of(customer)
    live = [sub for sub in subscriptions if sub["status"] in ("active", "past_due")]
    return (live or subscriptions)[-1]


def _life_ending_active(stripe_customer) -> None:  # type: ignore[no-untyped-def]
    stripe_customer.subscribe()
    stripe_customer.renew()
    stripe_customer.fail_payment()
    stripe_customer.fail_payment()
    simulation.pay_open_invoice(stripe_customer.account().stripe_subscription_id)
    stripe_customer.deliver()
    stripe_customer.renew()


def _life_ending_canceled(stripe_customer) -> None:  # type: ignore[no-untyped-def]
    stripe_customer.subscribe()
    stripe_customer.renew()
    stripe_customer.fail_payment()
    stripe_customer.cancel()


def _life_ending_past_due(stripe_customer) -> None:  # type: ignore[no-untyped-def]
    stripe_customer.subscribe()
    stripe_customer.fail_payment()
    simulation.pay_open_invoice(stripe_customer.account().stripe_subscription_id)
    stripe_customer.deliver()
    stripe_customer.fail_payment()


def _life_resubscribed(stripe_customer) -> None:  # type: ignore[no-untyped-def]
    stripe_customer.subscribe()
    stripe_customer.fail_payment()
    stripe_customer.cancel()
    stripe_customer.subscribe("yearly")
    stripe_customer.renew()


def _life_resubscribed_then_canceled(stripe_customer) -> None:  # type: ignore[no-untyped-def]
    _life_resubscribed(stripe_customer)
    stripe_customer.cancel()


@pytest.mark.parametrize(
    ("life", "serving"),
    [
        (_life_ending_active, True),
        (_life_ending_canceled, False),
        (_life_ending_past_due, True),
        (_life_resubscribed, True),
        (_life_resubscribed_then_canceled, False),
    ],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_deliveries_end_in_the_last_real_state(alice, alice_stripe, life, serving, seed):
    life(alice_stripe)
    events = store.all_of("event")
    real = _real_state(alice)
    _replay_shuffled(alice_stripe.client, alice, events, seed)
    account = BillingAccount.objects.get(user=alice)
    assert (account.stripe_subscription_id, account.status) == (real["id"], real["status"])
    assert can_hold_number(alice) is serving
