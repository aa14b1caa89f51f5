"""Erasing a user's billing data: their subscription ends now and their Stripe customer is deleted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from billing import stripe_api
from billing.models import ENDED, BillingAccount

if TYPE_CHECKING:
    from accounts.models import User


def erase_customer(user: User) -> None:
    """Cancel the subscription immediately, delete the Stripe customer, then our row.

    Raises stripe_api.StripeUnavailable (our row kept, so a retry finishes the job)
    when Stripe does not answer.
    """
    account = BillingAccount.objects.filter(user=user).first()
    if account is None:
        return
    if account.stripe_subscription_id and account.status not in ENDED:
        stripe_api.cancel_subscription(account.stripe_subscription_id)
    if account.stripe_customer_id:
        stripe_api.delete_customer(account.stripe_customer_id)
    account.delete()
