"""The one module that talks to Stripe, through the official SDK.

With settings.STRIPE_FAKE the SDK's HTTP client is the local fake
(billing/fake_stripe/), so the same calls, serialization and error handling run
in the embedded mode and the tests as in production. Stripe's errors become
StripeUnavailable (try again later) or StripeObjectMissing (it is gone).
"""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)
# The SDK logs every request at INFO, URLs and ids included; our own lines say what matters.
logging.getLogger("stripe").setLevel(logging.WARNING)


class StripeUnavailable(Exception):
    """Stripe did not answer or refused the request; nothing was changed on our side."""


class StripeObjectMissing(Exception):
    """Stripe has no such object (deleted, or never existed)."""


class SignatureInvalid(Exception):
    """A webhook body whose Stripe-Signature does not verify (or is too old)."""


@functools.cache
def _client_for(api_key: str, fake: bool) -> stripe.StripeClient:
    if fake:
        from billing.fake_stripe.api import FakeStripeHTTPClient

        http_client: stripe.HTTPClient = FakeStripeHTTPClient()
    else:
        http_client = stripe.new_default_http_client(timeout=settings.STRIPE_TIMEOUT_SECONDS)
    return stripe.StripeClient(api_key, http_client=http_client, max_network_retries=2)


def client() -> stripe.StripeClient:
    return _client_for(settings.STRIPE_SECRET_KEY, settings.STRIPE_FAKE)


def _call(what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except stripe.InvalidRequestError as exc:
        if exc.code == "resource_missing":
            raise StripeObjectMissing(what) from None
        logger.error("Stripe refused %s: %s", what, exc.code or type(exc).__name__)
        raise StripeUnavailable(what) from None
    except stripe.StripeError as exc:
        logger.warning("Stripe call %s failed: %s", what, type(exc).__name__)
        raise StripeUnavailable(what) from None


def create_customer(*, email: str, user_id: int) -> str:
    """A new Stripe customer for this user; the idempotency key stops a double click making two."""
    customer = _call(
        "customers.create",
        client().v1.customers.create,
        params={"email": email, "metadata": {"numfree_user": str(user_id)}},
        options={"idempotency_key": f"numfree-customer-{user_id}"},
    )
    return customer.id


def delete_customer(customer_id: str) -> None:
    with contextlib.suppress(StripeObjectMissing):  # already gone: the goal is reached
        _call("customers.delete", client().v1.customers.delete, customer_id)


def create_checkout_session(
    *, customer_id: str, price_id: str, user_id: int, success_url: str, cancel_url: str
) -> tuple[str, str]:
    """A hosted Checkout page for a subscription; returns (session id, URL to send the user to)."""
    session = _call(
        "checkout.sessions.create",
        client().v1.checkout.sessions.create,
        params={
            "mode": "subscription",
            "customer": customer_id,
            "client_reference_id": str(user_id),
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
    )
    return session.id, session.url


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    session = _call("checkout.sessions.retrieve", client().v1.checkout.sessions.retrieve, session_id)
    return session.to_dict()


def create_portal_session(*, customer_id: str, return_url: str) -> str:
    """A Customer Portal page (card, plan, cancellation); returns its URL."""
    session = _call(
        "billing_portal.sessions.create",
        client().v1.billing_portal.sessions.create,
        params={"customer": customer_id, "return_url": return_url},
    )
    return session.url


def retrieve_subscription(subscription_id: str) -> dict[str, Any]:
    subscription = _call("subscriptions.retrieve", client().v1.subscriptions.retrieve, subscription_id)
    return subscription.to_dict()


def cancel_subscription(subscription_id: str) -> None:
    """Cancel now (not at period end). Already canceled or gone counts as done."""
    with contextlib.suppress(StripeObjectMissing):
        _call("subscriptions.cancel", client().v1.subscriptions.cancel, subscription_id)


def verify_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event in a webhook body, if its Stripe-Signature verifies within the default 300 s tolerance."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except (stripe.SignatureVerificationError, ValueError):
        raise SignatureInvalid from None
    return event.to_dict()
