"""Changing and resetting a password: other sessions and every API sign-in end."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import SignIn
from numfree.outbox.testing import run_pending
from tests.conftest import PASSWORD

NEW_PASSWORD = "a brand new passphrase 7"


def other_session(user) -> Client:  # type: ignore[no-untyped-def]
    browser = Client()
    browser.force_login(user)
    assert browser.get("/dashboard/").status_code == 200
    return browser


def reset_path() -> str:
    run_pending()
    (message,) = [message for message in mail.outbox if "/reset/" in message.body]
    return urlsplit(re.search(r"https?://\S+", message.body).group(0)).path


def test_changing_the_password_ends_other_sessions_and_every_api_sign_in_but_keeps_this_one(client, alice, bob):
    here = other_session(alice)
    elsewhere = other_session(alice)
    bobs = other_session(bob)
    alice_sign_ins = [SignIn.objects.create(user=alice) for _ in range(2)]
    bobs_sign_in = SignIn.objects.create(user=bob)

    response = here.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.redirect_chain == [("/account/", 302)]
    assert "logged out everywhere else" in response.content.decode()

    assert here.get("/dashboard/").status_code == 200
    assert elsewhere.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"
    assert bobs.get("/dashboard/").status_code == 200
    for sign_in in alice_sign_ins:
        sign_in.refresh_from_db()
        assert sign_in.revoked_reason == SignIn.REVOKED_PASSWORD
    bobs_sign_in.refresh_from_db()
    assert not bobs_sign_in.is_revoked

    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert alice.password.startswith("bcrypt_sha256$")
    run_pending()
    (notice,) = mail.outbox
    assert notice.to == ["alice@example.com"]
    assert "password of your NumFree account was just changed" in notice.body


def test_a_wrong_current_password_changes_nothing(alice_client, alice):
    sign_in = SignIn.objects.create(user=alice)
    response = alice_client.post(
        "/account/password/", {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert "incorrectly" in response.content.decode()
    sign_in.refresh_from_db()
    assert not sign_in.is_revoked
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_the_new_password_goes_through_djangos_validators(alice_client, alice):
    response = alice_client.post(
        "/account/password/", {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert "entirely numeric" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_a_password_reset_by_email_ends_every_session_and_sign_in(client, alice, caplog):
    caplog.set_level(logging.DEBUG)
    elsewhere = other_session(alice)
    sign_in = SignIn.objects.create(user=alice)

    response = client.post("/password-reset/", {"email": "ALICE@example.com"})
    assert response["Location"] == "/password-reset/sent/"
    assert mail.outbox == []
    path = reset_path()
    assert path.startswith("/reset/")

    form = client.get(path, follow=True)
    assert "Choose a new password" in form.content.decode()
    set_password_path = form.redirect_chain[-1][0]
    response = client.post(set_password_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/reset/done/"
    assert "Your password is changed" in client.get("/reset/done/").content.decode()

    assert elsewhere.get("/dashboard/").status_code == 302
    sign_in.refresh_from_db()
    assert sign_in.revoked_reason == SignIn.REVOKED_PASSWORD
    assert client.post("/login/", {"username": "alice@example.com", "password": NEW_PASSWORD}).status_code == 302

    token = path.split("/")[3]
    for secret in (token, NEW_PASSWORD, PASSWORD, "/reset/"):
        assert secret not in caplog.text


def test_a_reset_link_works_once(client, alice):
    client.post("/password-reset/", {"email": "alice@example.com"})
    path = reset_path()
    set_password_path = client.get(path, follow=True).redirect_chain[-1][0]
    client.post(set_password_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    again = Client().get(path, follow=True)
    assert "This link cannot be used" in again.content.decode()


def test_a_reset_proves_the_address_of_an_unverified_account(client, unverified):
    client.post("/password-reset/", {"email": unverified.email})
    set_password_path = client.get(reset_path(), follow=True).redirect_chain[-1][0]
    client.post(set_password_path, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    unverified.refresh_from_db()
    assert unverified.email_verified


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, db):
    response = client.post("/password-reset/", {"email": "nobody@example.com"})
    assert response["Location"] == "/password-reset/sent/"
    run_pending()
    assert mail.outbox == []


def test_a_reset_link_points_at_the_public_url_whatever_host_the_request_named(client, alice, settings):
    settings.ALLOWED_HOSTS = ["*"]
    client.post("/password-reset/", {"email": "alice@example.com"}, HTTP_HOST="evil.example")
    run_pending()
    (message,) = mail.outbox
    assert settings.PUBLIC_URL + "/reset/" in message.body
    assert "evil.example" not in message.body


def test_password_resets_stop_at_the_configured_count_per_account(client, alice):
    count = int(settings.RATE_LIMITS["password_reset_account"].split("/")[0])
    with time_machine.travel(timezone.now(), tick=False):
        for attempt in range(count):
            assert (
                client.post(
                    "/password-reset/", {"email": "alice@example.com"}, REMOTE_ADDR=f"198.51.100.{attempt}"
                ).status_code
                == 302
            )
        response = client.post("/password-reset/", {"email": "Alice@Example.com"}, REMOTE_ADDR="198.51.100.200")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    run_pending()
    assert len(mail.outbox) == count


def test_password_resets_stop_at_the_configured_count_per_ip_whatever_x_forwarded_for_says(client, alice):
    count = int(settings.RATE_LIMITS["password_reset_ip"].split("/")[0])
    with time_machine.travel(timezone.now(), tick=False):
        for attempt in range(count):
            response = client.post(
                "/password-reset/",
                {"email": f"someone{attempt}@example.com"},
                HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
            )
            assert response.status_code == 302
        response = client.post("/password-reset/", {"email": "alice@example.com"}, HTTP_X_FORWARDED_FOR="203.0.113.250")
    assert response.status_code == 429
    run_pending()
    assert mail.outbox == []
