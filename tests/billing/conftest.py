"""Billing test helpers: drive the fake Stripe as a customer would, and deliver its events with real signatures."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client

from billing.fake_stripe import simulation, store
from billing.fake_stripe.delivery import signature_header
from billing.models import BillingAccount


@pytest.fixture(autouse=True)
def _nothing_listens_at_public_url(settings):  # type: ignore[no-untyped-def]
    # The fake's own delivery job POSTs to PUBLIC_URL; no test may reach a real
    # server there. Tests that want that delivery use live_server.
    settings.PUBLIC_URL = "http://127.0.0.1:9"


def post_event(
    client: Client,
    event: dict[str, Any],
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    body: str | None = None,
):  # type: ignore[no-untyped-def]
    payload = json.dumps(event)
    header = signature_header(payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp)
    return client.post(
        "/webhooks/stripe/",
        data=body if body is not None else payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )


class FakeStripeCustomer:
    """A user going through the fake's hosted pages; `deliver()` sends what Stripe would have sent."""

    def __init__(self, client: Client, user: Any) -> None:
        self.client = client
        self.user = user
        self.delivered: set[str] = set()

    def subscribe(self, plan: str = "monthly") -> str:
        self.client.force_login(self.user)  # sessions expire during time travel
        response = self.client.post("/dashboard/billing/checkout/", {"plan": plan})
        assert response.status_code == 302, response.content
        checkout_path = urlsplit(response["Location"]).path
        assert self.client.get(checkout_path).status_code == 200
        response = self.client.post(checkout_path)
        assert response.status_code == 302
        self.deliver()
        return self.account().stripe_subscription_id

    def page(self, path: str = "/dashboard/billing/") -> str:
        self.client.force_login(self.user)
        response = self.client.get(path)
        assert response.status_code == 200
        return response.content.decode()

    def account(self) -> BillingAccount:
        return BillingAccount.objects.get(user=self.user)

    def undelivered(self) -> list[dict[str, Any]]:
        return [event for event in store.all_of("event") if event["id"] not in self.delivered]

    def deliver(self) -> int:
        events = self.undelivered()
        for event in events:
            response = post_event(self.client, event)
            assert response.status_code == 200, response.content
            self.delivered.add(event["id"])
        return len(events)

    def renew(self) -> None:
        simulation.renew(self.account().stripe_subscription_id)
        self.deliver()

    def fail_payment(self) -> None:
        simulation.fail_payment(self.account().stripe_subscription_id)
        self.deliver()

    def cancel(self) -> None:
        simulation.cancel_subscription(self.account().stripe_subscription_id)
        self.deliver()


@pytest.fixture
def alice_stripe(alice_client, alice) -> FakeStripeCustomer:  # type: ignore[no-untyped-def]
    return FakeStripeCustomer(alice_client, alice)
