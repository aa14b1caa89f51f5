"""Billing's background work: number-hold notices and releases, deleting erased customers at Stripe, and the fake Stripe's webhook deliveries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from billing import dunning, erasure
from numfree.outbox import PermanentFailure, job, periodic
from privacy.erasure import provider_deletion_job


@periodic("billing.number_holds", every=timedelta(minutes=15))
def number_holds(payload: dict[str, Any]) -> None:
    """Tell users their service stopped and when their number goes; release it after the hold."""
    for account_id in dunning.accounts_to_watch():
        dunning.advance_hold(account_id)


@job("billing.fake_stripe_deliver", max_attempts=12)
def fake_stripe_deliver(payload: dict[str, Any]) -> None:
    """The fake Stripe sends one event to /webhooks/stripe/ (retried until it gets a 2xx, like Stripe)."""
    if not settings.STRIPE_FAKE:
        raise PermanentFailure("the Stripe fake is off")
    from billing.fake_stripe import store
    from billing.fake_stripe.delivery import deliver

    event = store.get(payload["event"])
    if event is None:
        raise PermanentFailure("no such fake event")
    status = deliver(event)
    if not 200 <= status < 300:
        raise RuntimeError(f"webhook answered {status}")


provider_deletion_job("billing.delete_customer")(erasure.delete_customer_at_stripe)
