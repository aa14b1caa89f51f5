"""Fixtures for the numbers app: a user with a number, and Twilio-signed webhook posts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client

from telephony import twilio_api, twilio_fake
from telephony.models import PhoneNumber


def signed_post(client: Client, path: str, params: dict[str, str], *, signature: str | None = None):  # type: ignore[no-untyped-def]
    """POST like Twilio: form-encoded, signed against PUBLIC_URL + path with the auth token."""
    url = settings.PUBLIC_URL.rstrip("/") + path
    if signature is None:
        signature = twilio_api.signature_for(url, params)
    return client.post(path, params, HTTP_X_TWILIO_SIGNATURE=signature)


@pytest.fixture
def twilio(client: Client) -> Callable[..., object]:
    def post(path: str, params: dict[str, str], **kwargs: object):  # type: ignore[no-untyped-def]
        return signed_post(Client(), path, params, **kwargs)  # a fresh client: Twilio has no session

    return post


def give_plan(user) -> None:  # type: ignore[no-untyped-def]
    """The user pays: an active subscription as billing records it after Stripe's events."""
    from billing.models import BillingAccount

    BillingAccount.objects.update_or_create(
        user=user, defaults={"status": "active", "plan": "monthly", "had_service": True}
    )


@pytest.fixture
def alice_plan(alice) -> None:  # type: ignore[no-untyped-def]
    give_plan(alice)


@pytest.fixture
def alice_number(alice, alice_plan) -> PhoneNumber:  # type: ignore[no-untyped-def]
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    return PhoneNumber.objects.create(user=alice, e164=bought.e164, twilio_sid=bought.sid, country="US")


def inbound_sms_params(
    to: str, sender: str = "+14155550100", body: str = "hello there", media: int = 0
) -> dict[str, str]:
    """A real-shaped inbound SMS webhook (Twilio's documented parameters), for a message the fake holds."""
    account = twilio_api.account_sid()
    sid, urls = twilio_fake.receive_message(account, sender, to, [(b"GIF89a-test", "image/gif")] * media)
    params = {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": str(media),
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": to,
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    for index, url in enumerate(urls):
        params[f"MediaUrl{index}"] = url
        params[f"MediaContentType{index}"] = "image/gif"
    return params


def call_params(to: str, sender: str = "+14155550100", sid: str | None = None, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": twilio_api.account_sid(),
        "ApiVersion": "2010-04-01",
        "CallSid": sid or twilio_fake.new_sid("CA"),
        "CallStatus": "ringing",
        "Called": to,
        "CalledCity": "SAN FRANCISCO",
        "Caller": sender,
        "CallerCity": "OAKLAND",
        "CallerZip": "94601",
        "Direction": "inbound",
        "From": sender,
        "FromCity": "OAKLAND",
        "FromZip": "94601",
        "To": to,
        **extra,
    }


def run_jobs_until_idle(rounds: int = 8, step_minutes: int = 5) -> int:
    """Run due jobs, then jump past retry back-offs and run again, until nothing is left to do."""
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from numfree.outbox.testing import run_pending

    total = 0
    with time_machine.travel(timezone.now(), tick=True) as traveller:
        for _ in range(rounds):
            ran = run_pending()
            total += ran
            traveller.shift(timedelta(minutes=step_minutes))
    return total
