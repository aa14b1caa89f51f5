"""Token obtain and refresh are rate limited per IP and per account; a dead limit store means 503."""

from __future__ import annotations

import socket

import pytest
from django.conf import settings
from django.test import override_settings

from tests.accounts.api_session import REFRESH_URL, TOKEN_URL, obtain, post_json, refresh
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def configured_count(limit: str) -> int:
    return int(settings.RATE_LIMITS[limit].partition("/")[0])


def attempt(client, email: str, **extra):
    return post_json(client, TOKEN_URL, {"email": email, "password": "wrong password"}, **extra)


def assert_rate_limited(response) -> None:
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1


def test_token_attempts_from_one_ip_trip_at_the_configured_count_even_with_a_new_x_forwarded_for_each_time(client, db):
    count = configured_count("token_ip")
    for n in range(count):
        # A different account each time, so only the per-IP limit can trip.
        response = attempt(client, f"user{n}@example.com", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert response.status_code == 401, n

    assert_rate_limited(attempt(client, "another@example.com", HTTP_X_FORWARDED_FOR="203.0.113.7"))
    # Another client is not affected.
    assert attempt(client, "another@example.com", REMOTE_ADDR="192.0.2.55").status_code == 401


def test_behind_a_trusted_proxy_only_the_address_it_saw_counts(client, db, settings):
    settings.NUMFREE_TRUSTED_PROXY_COUNT = 1
    count = configured_count("token_ip")
    for n in range(count):
        # The client forges the start of the header; the proxy appends the address it saw.
        response = attempt(client, f"user{n}@example.com", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.9")
        assert response.status_code == 401, n

    assert_rate_limited(attempt(client, "another@example.com", HTTP_X_FORWARDED_FOR="10.0.0.1, 203.0.113.9"))
    assert attempt(client, "another@example.com", HTTP_X_FORWARDED_FOR="203.0.113.10").status_code == 401


def test_token_attempts_on_one_account_trip_at_the_configured_count_from_any_ip(client, alice):
    count = configured_count("token_account")
    for n in range(count):
        response = attempt(client, "alice@example.com", REMOTE_ADDR=f"192.0.2.{n + 1}")
        assert response.status_code == 401, n

    # Even the right password from a fresh address waits, and the case of the email does not matter.
    response = post_json(
        client, TOKEN_URL, {"email": "ALICE@example.com", "password": PASSWORD}, REMOTE_ADDR="192.0.2.200"
    )
    assert_rate_limited(response)
    # Other accounts are not affected.
    assert attempt(client, "bob@example.com", REMOTE_ADDR="192.0.2.201").status_code == 401


def test_refreshes_from_one_ip_trip_at_the_configured_count(client, alice):
    tokens = obtain(client, alice.email, REMOTE_ADDR="192.0.2.1")
    count = configured_count("refresh_ip")
    for n in range(count):
        response = refresh(client, "not-a-token", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
        assert response.status_code == 401, n

    assert_rate_limited(refresh(client, tokens["refresh"]))
    assert refresh(client, tokens["refresh"], REMOTE_ADDR="192.0.2.9").status_code == 200


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_that_does_not_answer() -> dict:
    location = f"redis://127.0.0.1:{closed_port()}/0"
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.mark.parametrize(
    ("url", "body"),
    [(TOKEN_URL, {"email": "alice@example.com", "password": PASSWORD}), (REFRESH_URL, {"refresh": "x"})],
)
def test_with_redis_down_the_limited_endpoints_answer_503_and_issue_nothing(client, alice, url, body):
    with override_settings(CACHES=redis_that_does_not_answer()):
        response = post_json(client, url, body)

    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert response["Retry-After"]
    assert not alice.sign_ins.exists()
