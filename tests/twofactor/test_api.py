"""POST /api/auth/token/ with two-factor sign-in on: `otp`, and the codes that tell the extension to ask."""

from __future__ import annotations

import json

import time_machine
from django.utils import timezone

from accounts.models import SignIn
from tests.conftest import PASSWORD
from tests.twofactor.conftest import code, wrong_code
from twofactor.enrolment import _replace_recovery_codes

URL = "/api/auth/token/"


def obtain(client, **body: str):  # type: ignore[no-untyped-def]
    payload = {"email": "alice@example.com", "password": PASSWORD, **body}
    return client.post(URL, data=json.dumps(payload), content_type="application/json")


def test_the_right_password_without_a_code_answers_two_factor_required_and_issues_nothing(client, secret):
    response = obtain(client)
    assert response.status_code == 401
    assert response.json()["code"] == "two_factor_required"
    assert set(response.json()) == {"code", "message"}
    assert not SignIn.objects.exists()


def test_the_password_with_the_code_gets_a_working_pair(client, secret):
    response = obtain(client, otp=code(secret))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    access = response.json()["access"]
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200


def test_a_wrong_code_answers_two_factor_invalid(client, secret):
    response = obtain(client, otp=wrong_code(secret))
    assert (response.status_code, response.json()["code"]) == (401, "two_factor_invalid")
    assert not SignIn.objects.exists()


def test_a_wrong_password_answers_invalid_credentials_whatever_the_code(client, secret):
    response = obtain(client, password="not it", otp=code(secret))
    assert response.json()["code"] == "invalid_credentials"


def test_a_code_used_once_cannot_be_replayed_within_its_window(client, secret):
    value = code(secret)
    with time_machine.travel(timezone.now(), tick=False):
        assert obtain(client, otp=value).status_code == 200
        replay = obtain(client, otp=value)
    assert (replay.status_code, replay.json()["code"]) == (401, "two_factor_invalid")
    assert SignIn.objects.count() == 1


def test_a_recovery_code_works_once_through_the_api(client, alice, secret):
    codes = _replace_recovery_codes(alice)
    assert obtain(client, otp=codes[0]).status_code == 200
    assert obtain(client, otp=codes[0]).json()["code"] == "two_factor_invalid"


def test_accounts_without_two_factor_see_no_change_and_ignore_otp(client, alice):
    assert obtain(client).status_code == 200
    assert obtain(client, otp="123456").status_code == 200


def test_too_many_wrong_codes_answer_429_with_retry_after_even_for_the_right_code(client, secret, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "token_account": "100/m", "token_ip": "100/m"}
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(settings.TWO_FACTOR_MAX_FAILURES):
            assert obtain(client, otp=wrong_code(secret)).json()["code"] == "two_factor_invalid"
        response = obtain(client, otp=code(secret))
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 0 < int(response["Retry-After"]) <= settings.TWO_FACTOR_FAILURE_WINDOW_SECONDS
    assert not SignIn.objects.exists()


def test_the_schema_documents_otp_and_the_two_factor_codes(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/auth/token/"]["post"]
    assert "two_factor_required" in operation["responses"]["401"]["description"]
    assert "two_factor_invalid" in operation["responses"]["401"]["description"]
