"""Turning two-factor sign-in on: a QR code drawn by us, a first code, recovery codes shown once."""

from __future__ import annotations

import base64
import re
from urllib.parse import parse_qs, unquote, urlsplit

from django.test import Client

from accounts.models import SignIn
from tests.twofactor.conftest import code, emails_to, logged_in, recovery_codes_on, wrong_code
from twofactor.enrolment import provisioning_uri
from twofactor.models import Authenticator, RecoveryCode
from twofactor.qr import qr_data_uri

PAGE = "/account/two-factor/"


def shown_secret(page: str) -> str:
    return re.search(r'data-secret="([A-Z2-7]+)"', page).group(1)


def qr_source(page: str) -> str:
    return re.search(r'<img class="twofactor-qr" src="([^"]+)"', page).group(1)


def test_the_setup_page_shows_a_qr_code_drawn_by_us_as_a_data_uri_and_the_key_as_text(alice_client):
    response = alice_client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    source = qr_source(page)
    assert source.startswith("data:image/svg+xml")
    svg = unquote(source.split(",", 1)[1])
    assert svg.startswith("<?xml") or svg.startswith("<svg")
    # No address anywhere but our own: the secret never reaches a third party.
    assert not re.findall(r"(?:src|href)=\"(?:https?:)?//", page)
    assert "data:" in response["Content-Security-Policy"].split("img-src", 1)[1].split(";")[0]
    assert response["Cache-Control"] == "no-store"
    assert len(shown_secret(page)) == 32


def test_the_qr_code_is_the_otpauth_uri_of_the_shown_key(alice_client, alice):
    page = alice_client.get(PAGE).content.decode()
    secret = shown_secret(page)
    uri = provisioning_uri(alice, secret)
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parse_qs(parts.query)["secret"] == [secret]
    assert parse_qs(parts.query)["issuer"] == ["NumFree"]
    # segno draws the same symbol for the same text, so the image is that URI's QR code.
    assert qr_source(page) == qr_data_uri(uri)
    assert "otpauth" not in page  # the URI travels only inside the drawing


def test_the_key_stays_the_same_until_it_is_confirmed_and_is_stored_sealed(alice_client, alice):
    first = shown_secret(alice_client.get(PAGE).content.decode())
    assert shown_secret(alice_client.get(PAGE).content.decode()) == first
    stored = bytes(Authenticator.objects.get(user=alice).secret_sealed)
    assert first.encode() not in stored
    assert first.encode() not in base64.b64decode(stored + b"=" * (-len(stored) % 4), altchars=b"-_")


def test_a_wrong_first_code_leaves_two_factor_off(alice_client, alice):
    secret = shown_secret(alice_client.get(PAGE).content.decode())
    response = alice_client.post(PAGE, {"code": wrong_code(secret)})
    assert response.status_code == 400
    assert "wrong, expired" in response.content.decode()
    assert not Authenticator.objects.enabled().filter(user=alice).exists()


def test_the_first_code_turns_it_on_and_shows_ten_recovery_codes_once(alice_client, alice):
    secret = shown_secret(alice_client.get(PAGE).content.decode())
    response = alice_client.post(PAGE, {"code": code(secret)})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    codes = recovery_codes_on(response.content.decode())
    assert len(set(codes)) == 10
    assert Authenticator.objects.enabled().filter(user=alice).exists()
    # Only hashes are kept, and the codes never appear again.
    stored = set(RecoveryCode.objects.filter(user=alice).values_list("digest", flat=True))
    assert len(stored) == 10 and not any(c.replace("-", "") in d for c in codes for d in stored)
    again = alice_client.get(PAGE).content.decode()
    assert recovery_codes_on(again) == []
    assert "10</strong> unused recovery codes" in again
    assert logged_in(alice_client)  # this session gave the code: it stays logged in
    assert any("turned on" in message.body for message in emails_to("alice@example.com"))


def test_turning_it_on_ends_password_only_sign_ins_elsewhere(alice_client, alice):
    other_browser = Client()
    other_browser.force_login(alice)
    sign_in = SignIn.objects.create(user=alice)
    secret = shown_secret(alice_client.get(PAGE).content.decode())
    alice_client.post(PAGE, {"code": code(secret)})
    sign_in.refresh_from_db()
    assert sign_in.revoked_at is not None
    assert not logged_in(other_browser)
    assert logged_in(alice_client)


def test_an_unverified_account_cannot_turn_it_on(client, unverified):
    client.force_login(unverified)
    response = client.get(PAGE)
    assert response.status_code == 403
    assert "Confirm your email address first" in response.content.decode()
    assert client.post(PAGE, {"code": "123456"}).status_code == 403
    assert not Authenticator.objects.filter(user=unverified).exists()


def test_anonymous_visitors_are_sent_to_log_in(client, db):
    assert client.get(PAGE)["Location"] == f"/login/?next={PAGE}"
    assert client.post("/account/two-factor/disable/")["Location"].startswith("/login/")


def test_each_account_gets_its_own_key(alice_client, client, bob):
    alices = shown_secret(alice_client.get(PAGE).content.decode())
    bobs_browser = Client()
    bobs_browser.force_login(bob)
    assert shown_secret(bobs_browser.get(PAGE).content.decode()) != alices


def test_the_account_page_links_to_the_two_factor_page(alice_client):
    assert f'href="{PAGE}"' in alice_client.get("/account/").content.decode()
