"""Sending the fake's events to our own webhook, signed the way Stripe signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.urls import reverse


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.payload" with the endpoint secret>."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def deliver(event: dict[str, Any]) -> int:
    """POST one event to /webhooks/stripe/; returns the HTTP status (raises on a network error)."""
    payload = json.dumps(event)
    request = urllib.request.Request(  # noqa: S310 - our own configured URL
        settings.PUBLIC_URL + reverse("stripe-webhook"),
        data=payload.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": signature_header(payload, settings.STRIPE_WEBHOOK_SECRET),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
