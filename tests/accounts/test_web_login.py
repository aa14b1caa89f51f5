"""Logging in and out on the web, the login limits, and the dashboard shell."""

from __future__ import annotations

import socket

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from tests.conftest import PASSWORD, make_user


def one_window() -> time_machine.travel:
    """Time stands still, so every attempt falls in one rate-limit window."""
    return time_machine.travel(timezone.now(), tick=False)


def limit(name: str) -> int:
    return int(settings.RATE_LIMITS[name].split("/")[0])


def login(client, email: str, password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": email, "password": password}, **extra)


def logged_in(client) -> bool:  # type: ignore[no-untyped-def]
    return client.get("/dashboard/").status_code == 200


def test_login_matches_the_email_address_whatever_its_case(client, alice):
    response = login(client, "ALICE@Example.com")
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert logged_in(client)


def test_a_wrong_password_is_refused_with_a_message_that_names_no_account(client, alice):
    response = login(client, "alice@example.com", "not the password")
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert not logged_in(client)
    unknown = login(client, "nobody@example.com", "not the password")
    assert "do not match an account" in unknown.content.decode()


def test_a_disabled_account_cannot_log_in(client, alice):
    alice.is_active = False
    alice.save()
    assert login(client, "alice@example.com").status_code == 200
    assert not logged_in(client)


def test_login_goes_back_to_the_page_asked_for_but_never_to_another_site(client, alice):
    assert (
        client.post(
            "/login/?next=/account/", {"username": "alice@example.com", "password": PASSWORD, "next": "/account/"}
        )["Location"]
        == "/account/"
    )
    client.logout()
    response = client.post(
        "/login/", {"username": "alice@example.com", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/dashboard/"


def test_a_logged_in_user_opening_the_login_page_goes_to_the_dashboard(alice_client):
    assert alice_client.get("/login/")["Location"] == "/dashboard/"


def test_logout_only_accepts_post(alice_client):
    assert alice_client.get("/logout/").status_code == 405
    assert logged_in(alice_client)
    response = alice_client.post("/logout/", follow=True)
    assert "You are logged out." in response.content.decode()
    assert not logged_in(alice_client)


# --- Brute force ------------------------------------------------------------------


def test_login_attempts_on_one_account_stop_at_the_configured_count_from_any_address(client, alice):
    count = limit("login_account")
    with one_window():
        for attempt in range(count):
            email = "alice@example.com" if attempt % 2 else "ALICE@example.com"
            response = login(client, email, "guess", REMOTE_ADDR=f"198.51.100.{attempt}")
            assert response.status_code == 200
        response = login(client, "alice@example.com", REMOTE_ADDR="198.51.100.250")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()
    assert not logged_in(client)  # even the right password waits


def test_login_attempts_from_one_ip_stop_at_the_configured_count_whatever_x_forwarded_for_says(client, db):
    count = limit("login_ip")
    make_user("victim@example.com")
    with one_window():
        for attempt in range(count):
            response = login(
                client, f"guess{attempt}@example.com", "guess", HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}"
            )
            assert response.status_code == 200
        response = login(client, "victim@example.com", HTTP_X_FORWARDED_FOR="203.0.113.250")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not logged_in(client)


def test_the_limit_of_one_ip_does_not_lock_out_another(client, alice):
    with one_window():
        for attempt in range(limit("login_ip") + 1):
            login(client, f"guess{attempt}@example.com", "guess", REMOTE_ADDR="198.51.100.7")
        assert login(client, "alice@example.com", REMOTE_ADDR="198.51.100.8").status_code == 302


def test_the_admin_login_counts_against_the_same_limit(client, db):
    staff = make_user("staff@example.com")
    staff.is_staff = True
    staff.save()
    with one_window():
        for attempt in range(limit("login_account")):
            response = client.post(
                "/admin/login/",
                {"username": "staff@example.com", "password": "guess"},
                REMOTE_ADDR=f"198.51.100.{attempt}",
            )
            assert response.status_code == 200
        response = client.post("/admin/login/", {"username": "staff@example.com", "password": PASSWORD})
    assert response.status_code == 429


# --- The rate-limit store is down -----------------------------------------------------


@pytest.fixture
def cache_down(settings):  # type: ignore[no-untyped-def]
    """The shared cache is Redis on a port where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/login/", {"username": "alice@example.com", "password": PASSWORD}),
        ("/signup/", {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD}),
        ("/password-reset/", {"email": "alice@example.com"}),
        ("/admin/login/", {"username": "alice@example.com", "password": PASSWORD}),
    ],
)
def test_limited_forms_answer_503_not_unlimited_when_the_rate_limit_store_is_down(
    client, alice, cache_down, path, data
):
    response = client.post(path, data)
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()
    assert response["Retry-After"]


def test_resending_the_link_answers_503_when_the_rate_limit_store_is_down(client, unverified, cache_down):
    client.force_login(unverified)
    assert client.post("/account/resend-verification/").status_code == 503


# --- Dashboard shell: owner / other user / anonymous -------------------------------------


def test_the_dashboard_links_to_every_section(alice_client):
    page = alice_client.get("/dashboard/").content.decode()
    for title in ("Number", "Calls", "Texts", "Voicemail", "Contacts", "Billing", "Privacy"):
        assert f">{title}</a>" in page
    assert "Hello, Alice" in page


def test_the_dashboard_greets_whoever_is_logged_in(client, alice, bob):
    client.force_login(bob)
    page = client.get("/dashboard/").content.decode()
    assert "Hello, Bob" in page
    assert "Alice" not in page


def test_the_dashboard_sends_anonymous_visitors_to_log_in(client, db):
    assert client.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"


def test_the_navigation_offers_the_admin_only_to_staff(client, alice):
    client.force_login(alice)
    assert 'href="/admin/"' not in client.get("/dashboard/").content.decode()
    alice.is_staff = True
    alice.save()
    assert 'href="/admin/"' in client.get("/dashboard/").content.decode()
