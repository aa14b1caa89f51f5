"""The fake Stripe cannot drift from the real one: every object it makes over a customer's life
(checkout, renewal, a failed then recovered payment, cancellation, the portal, deletion) has the
same keys, with the same JSON types, as Stripe's example object of that type
(tests/providers/stripe_fixtures3.json, from Stripe's openapi fixtures; MIT, LICENSE.stripe-openapi)."""

from __future__ import annotations

from typing import Any

import pytest

from billing.fake_stripe import simulation, store
from tests.billing.conftest import FakeStripeCustomer
from tests.providers.openapi_schemas import stripe_examples

pytestmark = pytest.mark.django_db


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def differences(obj: dict[str, Any], path: str = "") -> list[str]:
    """Keys missing or invented, and types that differ (null matches anything, as in Stripe's nullable
    fields), against the example of the object's type; objects nested in it are checked the same way."""
    found: list[str] = []
    kind = obj.get("object")
    example = stripe_examples().get(kind) if isinstance(kind, str) else None
    here = f"{path or kind}"
    if example is not None:
        found += [f"{here}.{key}: missing" for key in example if key not in obj]
        found += [f"{here}.{key}: not Stripe's" for key in obj if key not in example]
        for key, value in obj.items():
            if key in example and None not in (value, example[key]) and _json_type(value) != _json_type(example[key]):
                found.append(f"{here}.{key}: {_json_type(value)}, Stripe's is {_json_type(example[key])}")
    for key, value in obj.items():
        children = value if isinstance(value, list) else [value]
        found += [d for child in children if isinstance(child, dict) for d in differences(child, f"{here}.{key}")]
    return found


def _a_customers_life(client, user) -> None:  # type: ignore[no-untyped-def]
    customer = FakeStripeCustomer(client, user)
    subscription = customer.subscribe()
    customer.page("/dashboard/billing/")
    client.post("/dashboard/billing/portal/")
    simulation.renew(subscription)
    simulation.fail_payment(subscription)
    simulation.pay_open_invoice(subscription)
    simulation.cancel_subscription(subscription)


def test_every_object_the_fake_stripe_makes_has_stripes_keys_and_types(client, alice) -> None:
    _a_customers_life(client, alice)
    kinds = ["customer", "checkout.session", "subscription", "invoice", "event", "billing_portal.session"]
    objects = [obj for kind in kinds for obj in store.all_of(kind)]
    assert {obj["object"] for obj in objects} >= {"customer", "checkout.session", "subscription", "invoice", "event"}
    problems = sorted({problem for obj in objects for problem in differences(obj)})
    assert problems == []


def test_the_comparison_notices_a_drifted_object() -> None:
    subscription = dict(stripe_examples()["subscription"])
    assert differences(subscription) == []
    subscription.pop("status")
    subscription["created"] = "yesterday"
    subscription["invented"] = 1
    assert sorted(differences(subscription)) == [
        "subscription.created: string, Stripe's is number",
        "subscription.invented: not Stripe's",
        "subscription.status: missing",
    ]
