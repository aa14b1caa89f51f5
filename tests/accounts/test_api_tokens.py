"""Obtaining, using, rotating and ending the extension's tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from django.conf import settings

from accounts.models import SignIn
from accounts.sign_ins import revoke_all
from tests.accounts.api_session import LOGOUT_URL, TOKEN_URL, me, obtain, post_json, refresh
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_right_password_gives_an_access_and_a_refresh_token_of_one_new_sign_in(client, alice):
    response = post_json(client, TOKEN_URL, {"email": "alice@example.com", "password": PASSWORD})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert response["Cache-Control"] == "no-store"
    sign_in = SignIn.objects.get(user=alice)
    assert claims(body["access"])["sid"] == claims(body["refresh"])["sid"] == str(sign_in.id)
    assert me(client, body["access"]).json()["email"] == "alice@example.com"


def test_email_is_matched_without_regard_to_case(client, alice):
    assert obtain(client, "  ALICE@Example.com")["access"]


def test_wrong_password_and_unknown_email_get_the_same_answer(client, alice):
    wrong = post_json(client, TOKEN_URL, {"email": "alice@example.com", "password": "not it at all"})
    unknown = post_json(client, TOKEN_URL, {"email": "nobody@example.com", "password": PASSWORD})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"code": "invalid_credentials", "message": "Email or password is wrong."}
    assert not SignIn.objects.exists()


def test_an_unverified_account_cannot_obtain_tokens(client, unverified):
    response = post_json(client, TOKEN_URL, {"email": unverified.email, "password": PASSWORD})

    assert response.status_code == 403
    assert response.json()["code"] == "email_unverified"
    assert not SignIn.objects.exists()


def test_an_unverified_account_with_a_wrong_password_learns_nothing_more(client, unverified):
    response = post_json(client, TOKEN_URL, {"email": unverified.email, "password": "wrong password"})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_a_disabled_account_cannot_obtain_tokens(client, alice):
    alice.is_active = False
    alice.save()
    response = post_json(client, TOKEN_URL, {"email": alice.email, "password": PASSWORD})
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


def test_an_access_token_is_rejected_five_minutes_after_issue(client, alice):
    with time_machine.travel(START, tick=False) as traveller:
        tokens = obtain(client, alice.email)
        traveller.shift(timedelta(minutes=5) - timedelta(seconds=1))
        assert me(client, tokens["access"]).status_code == 200
        traveller.shift(timedelta(seconds=1))
        response = me(client, tokens["access"])

    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] == timedelta(minutes=5)


def test_a_refresh_gives_a_new_pair_of_the_same_sign_in_and_uses_up_the_old_token(client, alice):
    first = obtain(client, alice.email)

    response = refresh(client, first["refresh"])

    assert response.status_code == 200
    second = response.json()
    assert second["refresh"] != first["refresh"]
    assert claims(second["refresh"])["sid"] == claims(first["refresh"])["sid"]
    assert me(client, second["access"]).status_code == 200
    third = refresh(client, second["refresh"])
    assert third.status_code == 200
    assert SignIn.objects.active().count() == 1


def test_a_refresh_token_reused_within_the_grace_period_is_a_race_and_revokes_nothing(client, alice):
    with time_machine.travel(START, tick=False) as traveller:
        first = obtain(client, alice.email)
        winner = refresh(client, first["refresh"]).json()
        traveller.shift(timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS))

        response = refresh(client, first["refresh"])

        assert response.status_code == 409
        assert response.json()["code"] == "refresh_race"
        assert me(client, first["access"]).status_code == 200
        assert me(client, winner["access"]).status_code == 200
        assert refresh(client, winner["refresh"]).status_code == 200
    assert SignIn.objects.active().count() == 1


def test_a_refresh_token_reused_after_the_grace_period_ends_the_whole_sign_in(client, alice):
    with time_machine.travel(START, tick=False) as traveller:
        first = obtain(client, alice.email)
        other_device = obtain(client, alice.email)
        winner = refresh(client, first["refresh"]).json()
        traveller.shift(timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS + 1))

        response = refresh(client, first["refresh"])

        assert response.status_code == 401
        assert response.json()["code"] == "token_revoked"
        # Every token of that sign-in stops working...
        assert me(client, winner["access"]).json()["code"] == "token_revoked"
        assert me(client, first["access"]).status_code == 401
        assert refresh(client, winner["refresh"]).json()["code"] == "token_revoked"
        # ...and the user's other sign-ins carry on.
        assert me(client, other_device["access"]).status_code == 200
        assert refresh(client, other_device["refresh"]).status_code == 200
    revoked = SignIn.objects.get(id=claims(first["refresh"])["sid"])
    assert revoked.revoked_reason == SignIn.REVOKED_REUSE


def test_a_grace_period_of_zero_treats_any_later_reuse_as_theft(client, alice, settings):
    settings.JWT_REFRESH_REUSE_GRACE_SECONDS = 0
    with time_machine.travel(START, tick=False) as traveller:
        first = obtain(client, alice.email)
        assert refresh(client, first["refresh"]).status_code == 200
        traveller.shift(timedelta(seconds=1))
        assert refresh(client, first["refresh"]).status_code == 401
    assert not SignIn.objects.active().exists()


def test_a_refresh_token_expires_after_its_lifetime(client, alice):
    with time_machine.travel(START, tick=False) as traveller:
        tokens = obtain(client, alice.email)
        traveller.shift(settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"])
        response = refresh(client, tokens["refresh"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_an_access_token_is_not_a_refresh_token(client, alice):
    tokens = obtain(client, alice.email)
    response = refresh(client, tokens["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_a_refresh_token_is_not_an_access_token(client, alice):
    tokens = obtain(client, alice.email)
    response = me(client, tokens["refresh"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_logout_ends_the_sign_in_and_only_that_one(client, alice):
    phone = obtain(client, alice.email)
    laptop = obtain(client, alice.email)

    response = post_json(client, LOGOUT_URL, {"refresh": phone["refresh"]})

    assert response.status_code == 204
    assert me(client, phone["access"]).json()["code"] == "token_revoked"
    assert refresh(client, phone["refresh"]).json()["code"] == "token_revoked"
    assert me(client, laptop["access"]).status_code == 200
    assert SignIn.objects.get(id=claims(phone["refresh"])["sid"]).revoked_reason == SignIn.REVOKED_LOGOUT


def test_logout_works_with_a_stale_access_token_in_the_header_and_twice(client, alice):
    tokens = obtain(client, alice.email)
    stale = {"HTTP_AUTHORIZATION": "Bearer not.a.token"}

    assert post_json(client, LOGOUT_URL, {"refresh": tokens["refresh"]}, **stale).status_code == 204
    assert post_json(client, LOGOUT_URL, {"refresh": tokens["refresh"]}).status_code == 204


def test_logout_with_a_rotated_refresh_token_still_ends_the_sign_in(client, alice):
    first = obtain(client, alice.email)
    second = refresh(client, first["refresh"]).json()

    assert post_json(client, LOGOUT_URL, {"refresh": first["refresh"]}).status_code == 204
    assert me(client, second["access"]).status_code == 401


def test_logout_refuses_a_token_that_is_not_ours(client, alice):
    forged = jwt.encode(
        {"token_type": "refresh", "sid": "x", "user_id": "1", "jti": "j", "exp": 4e9},
        "a signing key that is not NumFree's, long enough",
    )
    response = post_json(client, LOGOUT_URL, {"refresh": forged})
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_a_password_change_elsewhere_ends_every_sign_in_except_the_one_kept(client, alice):
    kept = obtain(client, alice.email)
    ended = obtain(client, alice.email)
    bobs = obtain(client, make_user("bob@example.com").email)

    revoked = revoke_all(alice, SignIn.REVOKED_PASSWORD, keep=claims(kept["refresh"])["sid"])

    assert [str(sign_in_id) for sign_in_id in revoked] == [claims(ended["refresh"])["sid"]]
    assert me(client, ended["access"]).json()["code"] == "token_revoked"
    assert refresh(client, ended["refresh"]).json()["code"] == "token_revoked"
    assert me(client, kept["access"]).status_code == 200
    assert me(client, bobs["access"]).status_code == 200


def test_disabling_an_account_stops_its_tokens_even_before_revocation(client, alice):
    tokens = obtain(client, alice.email)
    alice.is_active = False
    alice.save()

    assert me(client, tokens["access"]).json()["code"] == "account_disabled"
    response = refresh(client, tokens["refresh"])
    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


def test_tokens_are_not_stored_in_the_clear(client, alice):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    tokens = obtain(client, alice.email)
    refresh(client, tokens["refresh"])
    assert OutstandingToken.objects.count() == 2
    assert not OutstandingToken.objects.exclude(token="").exists()
