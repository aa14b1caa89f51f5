"""Erasing a user's billing: the subscription is canceled now and the Stripe customer deleted, through the seam."""

from __future__ import annotations

from billing.entitlements import can_hold_number
from billing.erasure import erase_customer
from billing.fake_stripe import store
from billing.models import BillingAccount


def test_erasure_cancels_the_subscription_and_deletes_the_customer(alice, alice_stripe):
    alice_stripe.subscribe()
    account = alice_stripe.account()
    erase_customer(alice)
    assert store.get(account.stripe_subscription_id)["status"] == "canceled"
    assert store.get(account.stripe_customer_id) is None
    assert not BillingAccount.objects.filter(user=alice).exists()
    assert not can_hold_number(alice)
    # Stripe's later customer.subscription.deleted finds nobody and changes nothing.
    alice_stripe.deliver()
    assert not BillingAccount.objects.filter(user=alice).exists()


def test_erasure_of_someone_who_never_subscribed_does_nothing(alice):
    erase_customer(alice)
    assert not BillingAccount.objects.exists()


def test_erasure_is_repeatable(alice, alice_stripe):
    alice_stripe.subscribe()
    erase_customer(alice)
    erase_customer(alice)
    assert not BillingAccount.objects.exists()
