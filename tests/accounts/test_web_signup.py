"""Sign-up as a browser does it: form, verification email, link, login, logout."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import User
from numfree.outbox.testing import run_pending
from tests.conftest import PASSWORD, make_user

BANNER = "Please confirm your email address"


def csrf_token(response) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def link_in(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://\S+", message.body)
    assert match, f"no link in {message.subject!r}"
    return match.group(0)


def signup_form(**fields: str) -> dict[str, str]:
    return {"email": "dora@example.com", "name": "Dora", "password1": PASSWORD, "password2": PASSWORD, **fields}


@pytest.mark.django_db
def test_a_new_user_signs_up_confirms_the_address_logs_in_and_out_like_a_browser(caplog):
    caplog.set_level(logging.DEBUG)
    browser = Client(enforce_csrf_checks=True)

    page = browser.get("/signup/")
    response = browser.post(
        "/signup/", {"csrfmiddlewaretoken": csrf_token(page), **signup_form(email="Dora@Example.COM")}
    )
    assert response.status_code == 302
    assert response["Location"] == "/signup/check-email/"
    assert "Check your email" in browser.get(response["Location"]).content.decode()
    user = User.objects.get(email__iexact="dora@example.com")
    assert user.email == "Dora@example.com"
    assert user.name == "Dora"
    assert not user.email_verified
    assert user.password.startswith("bcrypt_sha256$")

    assert mail.outbox == []  # the request only queued it
    assert run_pending() >= 1
    (message,) = mail.outbox
    assert message.to == ["Dora@example.com"]
    link = link_in(message)
    assert link.startswith(settings.PUBLIC_URL + "/verify-email/")

    confirmed = browser.get(urlsplit(link).path)
    assert confirmed.status_code == 200
    assert "Your email address is confirmed." in confirmed.content.decode()
    user.refresh_from_db()
    assert user.email_verified

    page = browser.get("/login/")
    response = browser.post(
        "/login/", {"csrfmiddlewaretoken": csrf_token(page), "username": "DORA@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    dashboard = browser.get("/dashboard/")
    assert dashboard.status_code == 200
    assert BANNER not in dashboard.content.decode()

    response = browser.post("/logout/", {"csrfmiddlewaretoken": csrf_token(dashboard)})
    assert response.status_code == 302
    assert browser.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"

    token = urlsplit(link).path.split("/")[2]
    assert PASSWORD not in caplog.text
    assert token not in caplog.text
    assert "/verify-email/" not in caplog.text


@pytest.mark.django_db
def test_a_form_posted_without_its_csrf_token_is_refused_with_a_readable_page():
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/signup/", signup_form())
    assert response.status_code == 403
    assert "reload the page" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_sign_up_applies_djangos_password_validators(client):
    response = client.post("/signup/", signup_form(password1="dora1234", password2="dora1234"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "too short" in page
    assert not User.objects.exists()


@pytest.mark.django_db
def test_sign_up_rejects_a_password_like_the_email_address(client):
    password = "dora@example.com1"
    response = client.post("/signup/", signup_form(password1=password, password2=password))
    assert "too similar" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_sign_up_needs_the_same_password_twice(client):
    response = client.post("/signup/", signup_form(password2=PASSWORD + "!"))
    assert "The two password fields didn" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signing_up_with_a_taken_address_looks_the_same_and_tells_its_owner(client, alice):
    response = client.post(
        "/signup/", signup_form(email="ALICE@example.com", password1="a new " + PASSWORD, password2="a new " + PASSWORD)
    )
    assert response.status_code == 302
    assert response["Location"] == "/signup/check-email/"
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)

    run_pending()
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert "already has one" in message.body
    assert "/password-reset/" in message.body


@pytest.mark.django_db
def test_a_logged_in_user_is_sent_from_the_sign_up_page_to_the_dashboard(alice_client):
    assert alice_client.get("/signup/")["Location"] == "/dashboard/"


@pytest.mark.django_db
def test_sign_up_stops_at_the_configured_count_per_ip(client):
    count = int(settings.RATE_LIMITS["signup_ip"].split("/")[0])
    with time_machine.travel(timezone.now(), tick=False):  # time stands still: one rate-limit window
        for attempt in range(count):
            response = client.post(
                "/signup/", signup_form(email=f"user{attempt}@example.com"), HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}"
            )
            assert response.status_code == 302
        response = client.post(
            "/signup/", signup_form(email="one-more@example.com"), HTTP_X_FORWARDED_FOR="203.0.113.250"
        )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()
    assert not User.objects.filter(email="one-more@example.com").exists()


@pytest.mark.django_db
def test_an_unverified_user_can_use_the_dashboard_but_sees_the_banner(client):
    carol = make_user("carol@example.com", verified=False)
    client.force_login(carol)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    assert BANNER in response.content.decode()
    assert 'action="/account/resend-verification/"' in response.content.decode()
