"""What happens on Stripe's side: checkout completes, renewals, failed and recovered payments, cancellation.

Each step changes the fake's objects and emits the events Stripe would send;
every event is signed and POSTed to our own /webhooks/stripe/ by the worker
(job billing.fake_stripe_deliver), as Stripe delivers them: later, maybe twice.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from billing.fake_stripe import store
from numfree import fake_store

PRICES = {"monthly": ("month", 500), "yearly": ("year", 5000)}


def price_for(price_id: str) -> dict[str, Any] | None:
    """A Price object for one of the configured plans' price ids."""
    for plan, details in settings.BILLING_PLANS.items():
        if details["price"] == price_id:
            interval, amount = PRICES[plan]
            return {
                "id": price_id,
                "object": "price",
                "active": True,
                "billing_scheme": "per_unit",
                "currency": "usd",
                "livemode": False,
                "lookup_key": None,
                "metadata": {},
                "nickname": plan,
                "product": "prod_numfree",
                "recurring": {"interval": interval, "interval_count": 1, "usage_type": "licensed"},
                "type": "recurring",
                "unit_amount": amount,
            }
    return None


def _period_end(start: int, interval: str) -> int:
    moment = datetime.fromtimestamp(start, tz=UTC)
    months = 1 if interval == "month" else 12
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def emit(event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    from numfree.outbox import enqueue

    event = store.new_event(event_type, obj, previous)
    # Stripe sends its events after its own commit: never under the fake store's lock.
    fake_store.on_commit(lambda: enqueue("billing.fake_stripe_deliver", {"event": event["id"]}))
    return event


def _item(subscription: dict[str, Any]) -> dict[str, Any]:
    return subscription["items"]["data"][0]


def _invoice(subscription: dict[str, Any], *, reason: str, paid: bool) -> dict[str, Any]:
    item = _item(subscription)
    amount = item["price"]["unit_amount"]
    created = store.now()
    customer = store.get(subscription["customer"]) or {}
    return store.save(
        {
            "id": store.new_id("in"),
            "object": "invoice",
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount,
            "attempt_count": 1,
            "attempted": True,
            "auto_advance": not paid,
            "billing_reason": reason,
            "collection_method": "charge_automatically",
            "created": created,
            "currency": "usd",
            "customer": subscription["customer"],
            "customer_email": customer.get("email"),
            "hosted_invoice_url": None,
            "livemode": False,
            "next_payment_attempt": None if paid else created + 3 * 86400,
            "parent": {
                "type": "subscription_details",
                "quote_details": None,
                "subscription_details": {"metadata": {}, "subscription": subscription["id"]},
            },
            "period_end": item["current_period_end"],
            "period_start": item["current_period_start"],
            "status": "paid" if paid else "open",
            "status_transitions": {
                "finalized_at": created,
                "marked_uncollectible_at": None,
                "paid_at": created if paid else None,
                "voided_at": None,
            },
            "total": amount,
        }
    )


def complete_checkout(session_id: str) -> dict[str, Any]:
    """The customer paid with the test card: a subscription starts and its first invoice is paid."""
    session = store.get(session_id)
    if session is None or session["status"] != "open":
        raise ValueError("this checkout session is not open")
    line_items = store.get(f"{session_id}_line_items") or {"data": []}
    price = price_for(line_items["data"][0]["price"]["id"])
    if price is None:
        raise ValueError("this checkout session's price is no longer configured")
    start = store.now()
    subscription_id = store.new_id("sub")
    subscription = {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "billing_cycle_anchor": start,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": start,
        "currency": "usd",
        "customer": session["customer"],
        "default_payment_method": store.new_id("pm"),
        "ended_at": None,
        "items": {
            "object": "list",
            "data": [
                {
                    "id": store.new_id("si"),
                    "object": "subscription_item",
                    "created": start,
                    "current_period_start": start,
                    "current_period_end": _period_end(start, price["recurring"]["interval"]),
                    "metadata": {},
                    "price": price,
                    "quantity": 1,
                    "subscription": subscription_id,
                }
            ],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={subscription_id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": {},
        "start_date": start,
        "status": "active",
        "trial_end": None,
        "trial_start": None,
    }
    invoice = _invoice(subscription, reason="subscription_create", paid=True)
    subscription["latest_invoice"] = invoice["id"]
    store.save(subscription)
    session.update(
        status="complete",
        payment_status="paid",
        subscription=subscription_id,
        invoice=invoice["id"],
        amount_subtotal=price["unit_amount"],
        amount_total=price["unit_amount"],
    )
    store.save(session)
    emit("customer.subscription.created", subscription)
    emit("invoice.paid", invoice)
    emit("checkout.session.completed", session)
    return session


def _subscription(subscription_id: str) -> dict[str, Any]:
    subscription = store.get(subscription_id)
    if subscription is None:
        raise ValueError("no such subscription")
    return subscription


def renew(subscription_id: str) -> dict[str, Any]:
    """The period ends and the card is charged successfully."""
    subscription = _subscription(subscription_id)
    if subscription["status"] not in ("active", "past_due", "unpaid"):
        raise ValueError("only a live subscription renews")
    _advance_period(subscription)
    previous = {"status": subscription["status"]} if subscription["status"] != "active" else {}
    subscription["status"] = "active"
    invoice = _invoice(subscription, reason="subscription_cycle", paid=True)
    subscription["latest_invoice"] = invoice["id"]
    store.save(subscription)
    emit("invoice.paid", invoice)
    emit("customer.subscription.updated", subscription, {**previous, "latest_invoice": None})
    return subscription


def _advance_period(subscription: dict[str, Any]) -> None:
    item = _item(subscription)
    item["current_period_start"] = item["current_period_end"]
    item["current_period_end"] = _period_end(item["current_period_end"], item["price"]["recurring"]["interval"])


def fail_payment(subscription_id: str) -> dict[str, Any]:
    """A charge is declined: the open invoice gets another failed attempt (or a new invoice its first)."""
    subscription = _subscription(subscription_id)
    if subscription["status"] not in ("active", "past_due", "unpaid"):
        raise ValueError("only a live subscription is charged")
    invoice = store.get(subscription["latest_invoice"] or "") or {}
    if invoice.get("status") == "open":
        invoice["attempt_count"] += 1
        invoice["next_payment_attempt"] = store.now() + 3 * 86400
        store.save(invoice)
    else:
        invoice = _invoice(subscription, reason="subscription_cycle", paid=False)
        subscription["latest_invoice"] = invoice["id"]
    previous_status = subscription["status"]
    subscription["status"] = "past_due"
    store.save(subscription)
    emit("invoice.payment_failed", invoice)
    if previous_status != "past_due":
        emit("customer.subscription.updated", subscription, {"status": previous_status})
    return invoice


def pay_open_invoice(subscription_id: str) -> dict[str, Any]:
    """The customer updated their card in the portal and the open invoice was paid."""
    subscription = _subscription(subscription_id)
    invoice = store.get(subscription["latest_invoice"] or "") or {}
    if invoice.get("status") != "open":
        raise ValueError("nothing to pay")
    invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0, next_payment_attempt=None)
    invoice["status_transitions"]["paid_at"] = store.now()
    store.save(invoice)
    previous_status = subscription["status"]
    subscription["status"] = "active"
    store.save(subscription)
    emit("invoice.paid", invoice)
    emit("customer.subscription.updated", subscription, {"status": previous_status})
    return subscription


def cancel_subscription(subscription_id: str) -> dict[str, Any]:
    """Cancel now (from the portal, the API, or when the customer is deleted)."""
    subscription = _subscription(subscription_id)
    if subscription["status"] in ("canceled", "incomplete_expired"):
        return subscription
    moment = store.now()
    subscription.update(status="canceled", canceled_at=moment, ended_at=moment, cancel_at_period_end=False)
    subscription["cancellation_details"]["reason"] = "cancellation_requested"
    store.save(subscription)
    emit("customer.subscription.deleted", subscription)
    return subscription
