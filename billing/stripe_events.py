"""Applying a verified Stripe event to our state, exactly once per event id.

The StripeEvent row and the state change commit together: a duplicate
delivery (even a concurrent one) finds the row and does nothing; a failure
rolls both back so Stripe's retry applies it. Subscription state is re-read
from Stripe rather than taken from the event, so delivery order does not matter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from billing import dunning
from billing.models import BillingAccount, StripeEvent
from billing.subscriptions import sync_subscription

logger = logging.getLogger(__name__)


def apply_event(event: dict[str, Any]) -> bool:
    """Apply a verified event; False when this event id was applied before (nothing changes)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(id=event["id"], type=event["type"])
        except IntegrityError:
            return False
        handler = HANDLERS.get(event["type"])
        if handler is not None:
            handler(event["data"]["object"], event)
    return True


def _locked_account(customer_id: str | None) -> BillingAccount | None:
    if not customer_id:
        return None
    return BillingAccount.objects.select_for_update().filter(stripe_customer_id=customer_id).first()


def _checkout_completed(session: dict[str, Any], event: dict[str, Any]) -> None:
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return
    account = _locked_account(session.get("customer"))
    if account is None or str(account.user_id) != str(session.get("client_reference_id")):
        logger.warning("checkout session for an unknown customer or another user ignored")
        return
    sync_subscription(account, session["subscription"])


def _subscription_changed(subscription: dict[str, Any], event: dict[str, Any]) -> None:
    account = _locked_account(subscription.get("customer"))
    if account is not None:
        sync_subscription(account, subscription["id"])


def invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """The subscription an invoice bills (API 2025+: parent.subscription_details; before: subscription)."""
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    return details.get("subscription") or invoice.get("subscription")


def _invoice_paid(invoice: dict[str, Any], event: dict[str, Any]) -> None:
    account = _locked_account(invoice.get("customer"))
    subscription_id = invoice_subscription(invoice)
    if account is not None and subscription_id:
        sync_subscription(account, subscription_id)


def _invoice_payment_failed(invoice: dict[str, Any], event: dict[str, Any]) -> None:
    account = _locked_account(invoice.get("customer"))
    subscription_id = invoice_subscription(invoice)
    if account is None or not subscription_id:
        return
    failed_at = datetime.fromtimestamp(event["created"], tz=UTC)
    follows = sync_subscription(account, subscription_id, failed_at=failed_at)
    if follows and subscription_id == account.stripe_subscription_id:
        dunning.notify_payment_failed(account, attempt=int(invoice.get("attempt_count") or 1))


HANDLERS: dict[str, Callable[[dict[str, Any], dict[str, Any]], None]] = {
    "checkout.session.completed": _checkout_completed,
    "customer.subscription.created": _subscription_changed,
    "customer.subscription.updated": _subscription_changed,
    "customer.subscription.deleted": _subscription_changed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_payment_failed,
}
