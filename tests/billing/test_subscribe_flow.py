"""Subscribing through Checkout, managing through the Portal: the production code path against the fake Stripe."""

from __future__ import annotations

from billing.entitlements import can_hold_number


def test_subscribing_through_checkout_gives_the_plan_and_the_right_to_a_number(alice, alice_stripe):
    assert not can_hold_number(alice)
    alice_stripe.subscribe("yearly")
    account = alice_stripe.account()
    assert (account.plan, account.status) == ("yearly", "active")
    assert account.current_period_end is not None
    assert account.stripe_customer_id.startswith("cus_")
    assert account.stripe_subscription_id.startswith("sub_")
    assert can_hold_number(alice)
