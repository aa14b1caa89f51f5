"""The fake's REST endpoints, answered in-process by a stripe.HTTPClient the SDK is given.

Only the endpoints NumFree calls exist; the JSON follows Stripe's API reference
(Customer, Checkout Session, Billing Portal Session, Subscription) so the SDK
parses real-shaped answers, including Stripe's error bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

from billing.fake_stripe import store
from billing.fake_stripe.simulation import cancel_subscription, price_for
from numfree import fake_store

Answer = tuple[int, dict[str, Any]]


def _nest(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (line_items[0][price]=...) back to nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _listify(value) for key, value in node.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def _missing(kind: str, object_id: str) -> Answer:
    return 404, {
        "error": {
            "code": "resource_missing",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "message": f"No such {kind}: '{object_id}'",
            "param": "id",
            "type": "invalid_request_error",
        }
    }


def _invalid(message: str, param: str) -> Answer:
    return 400, {"error": {"message": message, "param": param, "type": "invalid_request_error"}}


def create_customer(params: dict[str, Any], idempotency_key: str | None) -> Answer:
    if idempotency_key:
        earlier = store.get(f"idem_{idempotency_key}")
        if earlier is not None:
            return 200, store.get(earlier["object_id"]) or {}
    customer = store.new_customer(email=params.get("email"), metadata=params.get("metadata") or {})
    if idempotency_key:
        store.save({"id": f"idem_{idempotency_key}", "object": "idempotency_key", "object_id": customer["id"]})
    return 200, customer


def delete_customer(customer_id: str) -> Answer:
    customer = store.get(customer_id)
    if customer is None or customer.get("deleted"):
        return _missing("customer", customer_id)
    for subscription in store.subscriptions_of(customer_id):
        if subscription["status"] not in ("canceled", "incomplete_expired"):
            cancel_subscription(subscription["id"])
    store.delete(customer_id)
    return 200, {"id": customer_id, "object": "customer", "deleted": True}


def create_checkout_session(params: dict[str, Any]) -> Answer:
    customer_id = params.get("customer", "")
    if not store.get(customer_id):
        return _missing("customer", customer_id)
    if params.get("mode") != "subscription":
        return _invalid("NumFree's fake only supports mode=subscription.", "mode")
    items = params.get("line_items") or []
    if len(items) != 1 or price_for(items[0].get("price", "")) is None:
        return _invalid("No such price.", "line_items[0][price]")
    return 200, store.new_checkout_session(params)


def create_portal_session(params: dict[str, Any]) -> Answer:
    customer_id = params.get("customer", "")
    if not store.get(customer_id):
        return _missing("customer", customer_id)
    return 200, store.new_portal_session(customer_id, params.get("return_url", ""))


def _retrieve(kind: str, object_id: str) -> Answer:
    found = store.get(object_id)
    if found is None or found.get("deleted"):
        return _missing(kind, object_id)
    return 200, found


def _cancel(subscription_id: str) -> Answer:
    if store.get(subscription_id) is None:
        return _missing("subscription", subscription_id)
    return 200, cancel_subscription(subscription_id)


Route = Callable[[dict[str, Any], re.Match[str], str | None], Answer]
ROUTES: list[tuple[str, re.Pattern[str], Route]] = [
    ("post", re.compile(r"/v1/customers"), lambda p, m, k: create_customer(p, k)),
    ("delete", re.compile(r"/v1/customers/(cus_\w+)"), lambda p, m, k: delete_customer(m[1])),
    ("post", re.compile(r"/v1/checkout/sessions"), lambda p, m, k: create_checkout_session(p)),
    ("get", re.compile(r"/v1/checkout/sessions/(\w+)"), lambda p, m, k: _retrieve("checkout.session", m[1])),
    ("post", re.compile(r"/v1/billing_portal/sessions"), lambda p, m, k: create_portal_session(p)),
    ("get", re.compile(r"/v1/subscriptions/(\w+)"), lambda p, m, k: _retrieve("subscription", m[1])),
    ("delete", re.compile(r"/v1/subscriptions/(\w+)"), lambda p, m, k: _cancel(m[1])),
]


def answer(method: str, url: str, headers: dict[str, str], body: str) -> Answer:
    status, payload, _headers = answer_with_headers(method, url, headers, body)
    return status, payload


def answer_with_headers(
    method: str, url: str, headers: dict[str, str], body: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    parts = urlsplit(url)
    injected = fake_store.injected_failure(store.PROVIDER, method, parts.path)
    if injected is not None:
        return injected.status, injected.body, injected.headers
    return (*_answer(method, parts.path, parts.query, headers, body), {})


def _answer(method: str, path: str, query: str, headers: dict[str, str], body: str) -> Answer:
    params = _nest(parse_qsl(body if method != "get" else query, keep_blank_values=True))
    if not headers.get("Authorization", "").startswith("Bearer sk_test_"):
        return 401, {"error": {"message": "Invalid API Key provided.", "type": "invalid_request_error"}}
    for route_method, pattern, route in ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            with store.transaction():
                return route(params, match, headers.get("Idempotency-Key"))
    return 404, {
        "error": {
            "message": f"Unrecognized request URL ({method.upper()}: {path}).",
            "type": "invalid_request_error",
        }
    }


class FakeStripeHTTPClient(stripe.HTTPClient):
    """What the SDK sends over HTTPS, answered by the fake instead of api.stripe.com."""

    name = "numfree-fake"

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        status, payload, extra = answer_with_headers(method.lower(), url, dict(headers or {}), body)
        response_headers = {"Content-Type": "application/json", "Request-Id": store.new_id("req"), **extra}
        return json.dumps(payload), status, response_headers

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("the fake answers no streaming endpoint")

    def close(self) -> None:
        pass
