"""A user's Stripe customer and subscription: creating the customer, Checkout, the Portal, and syncing state.

State is always copied from the subscription as Stripe holds it now (re-read
through the seam under a row lock), so events arriving late, twice or out of
order all leave the account equal to Stripe's latest state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing import stripe_api
from billing.models import ENDED, IN_GRACE, SERVING, BillingAccount

if TYPE_CHECKING:
    from accounts.models import User

LIVE = SERVING | IN_GRACE


class BillingError(Exception):
    """Something the user can fix or should know, with an error code from numfree/errors.py."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def account_for(user: User) -> BillingAccount | None:
    return BillingAccount.objects.filter(user=user).first()


def ensure_customer(user: User) -> BillingAccount:
    """The user's account with its Stripe customer, created once and then reused."""
    account, _ = BillingAccount.objects.get_or_create(user=user)
    if account.stripe_customer_id:
        return account
    with transaction.atomic():
        # The row lock makes a double click wait here instead of creating a second customer.
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        if not account.stripe_customer_id:
            account.stripe_customer_id = stripe_api.create_customer(email=user.email, user_id=user.pk)
            account.save(update_fields=["stripe_customer_id", "updated_at"])
    return account


def start_checkout(user: User, plan: str) -> str:
    """The URL of a Stripe Checkout page subscribing the user to `plan`."""
    if plan not in settings.BILLING_PLANS:
        raise BillingError("plan_unknown", "There is no such plan.")
    if not user.email_verified:
        raise BillingError("email_unverified", "Confirm your email address before subscribing.")
    existing = account_for(user)
    if existing is not None and existing.status in LIVE:
        raise BillingError("already_subscribed", "You already have a subscription; manage it from the billing page.")
    account = ensure_customer(user)
    billing_url = settings.PUBLIC_URL + reverse("billing")
    _, url = stripe_api.create_checkout_session(
        customer_id=account.stripe_customer_id,
        price_id=settings.BILLING_PLANS[plan]["price"],
        user_id=user.pk,
        success_url=billing_url + "?checkout={CHECKOUT_SESSION_ID}",
        cancel_url=billing_url,
    )
    return url


def open_portal(user: User) -> str:
    """The URL of the Stripe Customer Portal (card, plan, cancellation) for this user."""
    account = account_for(user)
    if account is None or not account.stripe_customer_id:
        raise BillingError("not_subscribed", "You have no subscription to manage yet.")
    return stripe_api.create_portal_session(
        customer_id=account.stripe_customer_id, return_url=settings.PUBLIC_URL + reverse("billing")
    )


def plan_for_price(price_id: str) -> str:
    for plan, details in settings.BILLING_PLANS.items():
        if details["price"] == price_id:
            return plan
    return ""


def _moment(timestamp: int | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, tz=UTC) if timestamp else None


def _replaces_current(account: BillingAccount, subscription: dict[str, Any]) -> bool:
    """Whether `subscription` is the one the account should follow from now on."""
    if not account.stripe_subscription_id or subscription["id"] == account.stripe_subscription_id:
        return True
    if subscription["status"] not in LIVE:
        return False  # an old ended one, or an unpaid new one: keep following the current
    if account.status not in LIVE:
        return True  # a resubscription
    created = _moment(subscription["created"])
    return account.subscription_created is None or (created is not None and created > account.subscription_created)


def sync_subscription(account: BillingAccount, subscription_id: str, *, failed_at: datetime | None = None) -> bool:
    """Copy the subscription's current state from Stripe; True when the account follows it.

    Call inside a transaction with `account` locked (select_for_update): reads
    and writes then happen in the order they commit, so the last writer also
    read last. `failed_at` is when a payment failed (the grace period counts from the first).
    """
    try:
        subscription = stripe_api.retrieve_subscription(subscription_id)
    except stripe_api.StripeObjectMissing:
        if subscription_id == account.stripe_subscription_id and account.status not in ENDED:
            account.status = "canceled"
            account.ended_at = account.ended_at or timezone.now()
            account.save()
        return False
    if subscription["customer"] != account.stripe_customer_id or not _replaces_current(account, subscription):
        return False
    if subscription["id"] != account.stripe_subscription_id:
        _start_following(account, subscription)
    _copy_state(account, subscription, failed_at=failed_at)
    account.save()
    return True


def _start_following(account: BillingAccount, subscription: dict[str, Any]) -> None:
    account.stripe_subscription_id = subscription["id"]
    account.subscription_created = _moment(subscription["created"])
    account.past_due_since = None
    account.ended_at = None
    account.had_service = False
    account.hold_notice_for = None
    account.release_reminder_for = None
    account.number_released_at = None


def _copy_state(account: BillingAccount, subscription: dict[str, Any], *, failed_at: datetime | None) -> None:
    status = subscription["status"]
    items = subscription["items"]["data"]
    account.status = status
    account.plan = plan_for_price(items[0]["price"]["id"]) if items else ""
    account.current_period_end = _moment(items[0].get("current_period_end")) if items else None
    account.cancel_at_period_end = bool(subscription.get("cancel_at_period_end"))
    if status in LIVE:
        account.had_service = True
        account.ended_at = None
    if status in SERVING:
        account.past_due_since = None
        account.hold_notice_for = None
        account.release_reminder_for = None
        account.number_released_at = None
    elif status in IN_GRACE:
        candidates = [moment for moment in (account.past_due_since, failed_at, timezone.now()) if moment]
        account.past_due_since = min(candidates)
    elif status in ENDED:
        account.ended_at = _moment(subscription.get("ended_at") or subscription.get("canceled_at")) or timezone.now()
