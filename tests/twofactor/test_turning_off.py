"""Turning two-factor sign-in off needs the password and a code; new recovery codes need a code."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.twofactor.conftest import code, emails_to, recovery_codes_on, wrong_code
from twofactor.enrolment import _replace_recovery_codes
from twofactor.models import Authenticator, RecoveryCode
from twofactor.testing import force_login_with_two_factor

DISABLE = "/account/two-factor/disable/"
NEW_CODES = "/account/two-factor/recovery-codes/"


def is_on(user) -> bool:  # type: ignore[no-untyped-def]
    return Authenticator.objects.enabled().filter(user=user).exists()


def test_the_password_and_a_current_code_turn_it_off_and_the_owner_is_told(client, alice):
    secret = force_login_with_two_factor(client, alice)
    response = client.post(DISABLE, {"password": PASSWORD, "code": code(secret)})
    assert response.status_code == 302
    assert not is_on(alice)
    assert not RecoveryCode.objects.filter(user=alice).exists()
    assert any("turned off" in message.body for message in emails_to("alice@example.com"))


def test_a_code_without_the_password_does_not_turn_it_off(client, alice):
    secret = force_login_with_two_factor(client, alice)
    response = client.post(DISABLE, {"password": "not my password", "code": code(secret)})
    assert response.status_code == 400
    assert "not your current password" in response.content.decode()
    assert is_on(alice)


def test_the_password_without_a_right_code_does_not_turn_it_off(client, alice):
    secret = force_login_with_two_factor(client, alice)
    assert client.post(DISABLE, {"password": PASSWORD, "code": wrong_code(secret)}).status_code == 400
    assert client.post(DISABLE, {"password": PASSWORD}).status_code == 400
    assert is_on(alice)


def test_a_recovery_code_can_stand_in_for_the_app_when_turning_it_off(client, alice):
    force_login_with_two_factor(client, alice)
    codes = _replace_recovery_codes(alice)
    assert client.post(DISABLE, {"password": PASSWORD, "code": codes[3]}).status_code == 302
    assert not is_on(alice)


def test_new_recovery_codes_need_a_code_and_the_old_ones_stop_working(client, alice):
    secret = force_login_with_two_factor(client, alice)
    old = _replace_recovery_codes(alice)
    assert client.post(NEW_CODES, {"code": wrong_code(secret)}).status_code == 400
    response = client.post(NEW_CODES, {"code": code(secret)})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    new = recovery_codes_on(response.content.decode())
    assert len(set(new)) == 10 and not set(new) & set(old)
    client.post("/logout/")
    client.post("/login/", {"username": "alice@example.com", "password": PASSWORD})
    assert client.post("/login/two-factor/", {"code": old[0]}).status_code == 200
    assert client.post("/login/two-factor/", {"code": new[0]}).status_code == 302


def test_the_manage_page_shows_since_when_and_how_many_codes_are_left(client, alice):
    force_login_with_two_factor(client, alice)
    _replace_recovery_codes(alice)
    page = client.get("/account/two-factor/").content.decode()
    assert "Two-factor sign-in is on" in page
    assert "10</strong> unused recovery codes" in page
