"""The fake's objects, kept in a table so the web and worker processes see the same Stripe.

Builders return Stripe-shaped JSON (API reference: Customer, Checkout Session,
Billing Portal Session, Subscription, Invoice, Event).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import stripe
from django.conf import settings

from billing.models import FakeStripeObject


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def now() -> int:
    return int(time.time())


def get(object_id: str) -> dict[str, Any] | None:
    row = FakeStripeObject.objects.filter(id=object_id).first()
    return row.data if row else None


def save(data: dict[str, Any]) -> dict[str, Any]:
    FakeStripeObject.objects.update_or_create(id=data["id"], defaults={"object": data["object"], "data": data})
    return data


def delete(object_id: str) -> None:
    FakeStripeObject.objects.filter(id=object_id).delete()


def all_of(kind: str) -> list[dict[str, Any]]:
    return [row.data for row in FakeStripeObject.objects.filter(object=kind).order_by("created", "id")]


def subscriptions_of(customer_id: str) -> list[dict[str, Any]]:
    return [data for data in all_of("subscription") if data["customer"] == customer_id]


def new_customer(*, email: str | None, metadata: dict[str, str]) -> dict[str, Any]:
    return save(
        {
            "id": new_id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "email": email,
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": metadata,
            "name": None,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
    )


def new_checkout_session(params: dict[str, Any]) -> dict[str, Any]:
    session_id = new_id("cs_test")
    created = now()
    price = params["line_items"][0]["price"]
    # What GET /v1/checkout/sessions/{id}/line_items would list.
    save(
        {
            "id": f"{session_id}_line_items",
            "object": "list",
            "data": [{"id": new_id("li"), "object": "item", "price": {"id": price, "object": "price"}, "quantity": 1}],
            "has_more": False,
            "url": f"/v1/checkout/sessions/{session_id}/line_items",
        }
    )
    return save(
        {
            "id": session_id,
            "object": "checkout.session",
            "after_expiration": None,
            "allow_promotion_codes": None,
            "amount_subtotal": None,
            "amount_total": None,
            "billing_address_collection": None,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": params.get("client_reference_id"),
            "created": created,
            "currency": "usd",
            "customer": params["customer"],
            "customer_email": None,
            "expires_at": created + 24 * 3600,
            "invoice": None,
            "livemode": False,
            "locale": None,
            "metadata": params.get("metadata") or {},
            "mode": "subscription",
            "payment_intent": None,
            "payment_method_types": ["card"],
            "payment_status": "unpaid",
            "status": "open",
            "submit_type": None,
            "subscription": None,
            "success_url": params.get("success_url"),
            "ui_mode": "hosted",
            "url": f"{settings.PUBLIC_URL}/_fake/stripe/checkout/{session_id}/",
        }
    )


def new_portal_session(customer_id: str, return_url: str) -> dict[str, Any]:
    session_id = new_id("bps")
    return save(
        {
            "id": session_id,
            "object": "billing_portal.session",
            "configuration": "bpc_fake",
            "created": now(),
            "customer": customer_id,
            "flow": None,
            "livemode": False,
            "locale": None,
            "on_behalf_of": None,
            "return_url": return_url,
            "url": f"{settings.PUBLIC_URL}/_fake/stripe/portal/{session_id}/",
        }
    )


def new_event(event_type: str, obj: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"object": obj}
    if previous is not None:
        data["previous_attributes"] = previous
    return save(
        {
            "id": new_id("evt"),
            "object": "event",
            "api_version": stripe.api_version,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
    )
