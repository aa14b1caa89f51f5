"""Erasing a user's billing: our row goes at once; a job deletes the Stripe customer (ending its subscription), through the seam."""

from __future__ import annotations

from billing import erasure
from billing.entitlements import can_hold_number
from billing.erasure import erase_customer
from billing.fake_stripe import store
from billing.models import BillingAccount
from privacy.registry import ProviderDeletion


def test_erasure_removes_our_row_at_once_and_leaves_the_customer_to_a_job(alice, alice_stripe):
    alice_stripe.subscribe()
    account = alice_stripe.account()
    deletions = erase_customer(alice)
    assert deletions == [
        ProviderDeletion("stripe", "billing.delete_customer", {"customer": account.stripe_customer_id})
    ]
    assert not BillingAccount.objects.filter(user=alice).exists()
    assert not can_hold_number(alice)
    assert store.get(account.stripe_customer_id) is not None  # Stripe was not called


def test_the_job_deletes_the_customer_and_so_ends_the_subscription_at_stripe(alice, alice_stripe):
    alice_stripe.subscribe()
    account = alice_stripe.account()
    [deletion] = erase_customer(alice)
    erasure.delete_customer_at_stripe(deletion.payload)
    assert store.get(account.stripe_subscription_id)["status"] == "canceled"
    assert store.get(account.stripe_customer_id) is None
    # Stripe's later customer.subscription.deleted finds nobody and changes nothing.
    alice_stripe.deliver()
    assert not BillingAccount.objects.filter(user=alice).exists()


def test_running_the_deletion_job_twice_is_harmless(alice, alice_stripe):
    alice_stripe.subscribe()
    [deletion] = erase_customer(alice)
    erasure.delete_customer_at_stripe(deletion.payload)
    erasure.delete_customer_at_stripe(deletion.payload)
    assert store.all_of("customer") == []


def test_erasure_of_someone_who_never_subscribed_leaves_nothing_to_do(alice):
    assert erase_customer(alice) == []
    assert not BillingAccount.objects.exists()


def test_erasure_is_repeatable(alice, alice_stripe):
    alice_stripe.subscribe()
    assert len(erase_customer(alice)) == 1
    assert erase_customer(alice) == []
    assert not BillingAccount.objects.exists()
