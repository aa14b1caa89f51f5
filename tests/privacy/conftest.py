"""Fixtures of the privacy tests: staff members, a worker drained on demand, what leaves the app."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.conftest import make_user


@pytest.fixture
def staff(db):  # type: ignore[no-untyped-def]
    user = make_user("support@numfree.com", name="Support")
    user.is_staff = True
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def superuser(db):  # type: ignore[no-untyped-def]
    user = make_user("root@numfree.com", name="Root")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def drain():  # type: ignore[no-untyped-def]
    from numfree.outbox.testing import run_pending

    def run() -> int:
        total = 0
        for _ in range(20):  # bounded: jobs may queue further jobs
            ran = run_pending()
            total += ran
            if not ran:
                return total
        return total

    return run


LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost", "testserver"}


@dataclass
class Outbound:
    """What left the app during a test, seen at the network edge.

    stripe / twilio: (METHOD, url, form fields) as each official SDK handed them
    to its HTTP client (the local fakes stand in below that point).
    elsewhere: any other host looked up or connected to (the connection is refused).
    """

    stripe: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    twilio: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    elsewhere: list[str] = field(default_factory=list)

    def sent(self, service: str, method: str, path_suffix: str) -> list[dict[str, str]]:
        return [
            fields
            for verb, url, fields in getattr(self, service)
            if verb == method and urlsplit(url).path.endswith(path_suffix)
        ]


@pytest.fixture
def outbound(monkeypatch) -> Outbound:  # type: ignore[no-untyped-def]
    from billing.fake_stripe.api import FakeStripeHTTPClient
    from telephony.twilio_fake import FakeTwilioHttpClient

    seen = Outbound()
    stripe_request, twilio_request, twilio_fetch = (
        FakeStripeHTTPClient.request,
        FakeTwilioHttpClient.request,
        FakeTwilioHttpClient.fetch_bytes,
    )

    def to_stripe(self, method, url, headers, post_data=None, **kwargs):  # type: ignore[no-untyped-def]
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        query = urlsplit(url).query
        seen.stripe.append((method.upper(), url, dict(parse_qsl("&".join(filter(None, [query, body]))))))
        return stripe_request(self, method, url, headers, post_data, **kwargs)

    def to_twilio(self, method, url, params=None, data=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        fields = {key: str(value) for key, value in {**(params or {}), **(data or {})}.items()}
        seen.twilio.append((method.upper(), url, fields))
        return twilio_request(self, method, url, params, data, *args, **kwargs)

    def download_from_twilio(self, url, auth):  # type: ignore[no-untyped-def]
        seen.twilio.append(("GET", url, {}))
        return twilio_fetch(self, url, auth)

    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def connect(sock, address):  # type: ignore[no-untyped-def]
        if isinstance(address, tuple) and address[0] not in LOCAL_HOSTS:
            seen.elsewhere.append(str(address[0]))
            raise ConnectionRefusedError("tests reach no other host")
        return real_connect(sock, address)

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host is not None and str(host) not in LOCAL_HOSTS:
            seen.elsewhere.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(FakeStripeHTTPClient, "request", to_stripe)
    monkeypatch.setattr(FakeTwilioHttpClient, "request", to_twilio)
    monkeypatch.setattr(FakeTwilioHttpClient, "fetch_bytes", download_from_twilio)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return seen
