"""Erasing a user's billing data: our row goes at once; the Stripe customer is deleted by a job.

Deleting a customer at Stripe also cancels its subscriptions at once, so the
one job stops every future charge; it retries while Stripe does not answer
(privacy.erasure.provider_deletion_job).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from billing import stripe_api
from billing.models import BillingAccount
from privacy.registry import ProviderDeletion

if TYPE_CHECKING:
    from accounts.models import User


def erase_customer(user: User) -> list[ProviderDeletion]:
    """Delete our billing row; returns the Stripe customer to delete there (none if there never was one)."""
    account = BillingAccount.objects.filter(user=user).first()
    if account is None:
        return []
    customer_id = account.stripe_customer_id
    account.delete()
    if not customer_id:
        return []
    return [ProviderDeletion("stripe", "billing.delete_customer", {"customer": customer_id})]


def delete_customer_at_stripe(payload: dict[str, Any]) -> None:
    """Outbox job: delete the customer (and so end its subscriptions); already gone counts as done.

    stripe_api.StripeUnavailable propagates: the outbox retries.
    """
    stripe_api.delete_customer(payload["customer"])
