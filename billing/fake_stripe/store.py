"""The fake's objects, kept in the fakes' own store (numfree/fake_store.py), apart from NumFree's
database as Stripe's are, and shared by the web and worker processes.

Builders return Stripe-shaped JSON (API reference: Customer, Checkout Session,
Billing Portal Session, Subscription, Invoice, Event). Every saved object gets
the keys of Stripe's example object of its type that the builder left out,
with neutral values (stripe_shapes.json, made from Stripe's openapi fixtures,
MIT: LICENSE.stripe-openapi), so it has the same keys and JSON types as
Stripe's; tests/providers checks it.
"""

from __future__ import annotations

import copy
import json
import secrets
import time
from functools import cache
from pathlib import Path
from typing import Any

import stripe
from django.conf import settings

from numfree import fake_store

PROVIDER = "stripe"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def now() -> int:
    return int(time.time())


def get(object_id: str) -> dict[str, Any] | None:
    found = fake_store.get(PROVIDER, object_id)
    return found.data if found else None


@cache
def _shapes() -> dict[str, dict[str, Any]]:
    return json.loads((Path(__file__).parent / "stripe_shapes.json").read_text())


def complete(data: dict[str, Any]) -> dict[str, Any]:
    """Add, in place, the keys Stripe's object of this type has and the builder left out (nested objects too)."""
    kind = data.get("object")
    for key, value in copy.deepcopy(_shapes().get(kind, {}) if isinstance(kind, str) else {}).items():
        data.setdefault(key, value)
    for value in data.values():
        if isinstance(value, dict):
            complete(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    complete(item)
    return data


def save(data: dict[str, Any]) -> dict[str, Any]:
    return fake_store.put(PROVIDER, data["object"], data["id"], complete(data))


def delete(object_id: str) -> None:
    fake_store.delete(PROVIDER, object_id)


def all_of(kind: str) -> list[dict[str, Any]]:
    """Every object of a kind, oldest first."""
    return [found.data for found in fake_store.find(PROVIDER, kind)]


def subscriptions_of(customer_id: str) -> list[dict[str, Any]]:
    return [found.data for found in fake_store.find(PROVIDER, "subscription", customer=customer_id)]


def transaction() -> Any:
    """One request's changes, all or nothing, in the fakes' store."""
    return fake_store.transaction()


def fail_requests(
    *, status: int = 503, method: str = "", path: str = "", times: int | None = None, code: str | None = None
) -> None:
    """From now on Stripe answers matching requests (`path`: a regex searched in the URL path)
    with this error, `times` times or until `recover()`: an outage (503 api_error) by default.
    It sends Stripe-Should-Retry: false, so the SDK reports it at once instead of sleeping."""
    error: dict[str, Any] = {
        "message": "The server is temporarily unavailable." if status >= 500 else "Request failed.",
        "type": "api_error" if status >= 500 else "invalid_request_error",
    }
    if code:
        error["code"] = code
    fake_store.inject_failure(
        PROVIDER,
        status=status,
        body={"error": error},
        method=method,
        path_pattern=path,
        times=times,
        headers={"stripe-should-retry": "false"},
    )


def recover() -> None:
    """Stripe answers normally again."""
    fake_store.clear_failures(PROVIDER)


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
