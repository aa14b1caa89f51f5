"""Logging in on the web with two-factor sign-in on: password, then a code; nobody is logged in between."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.utils import timezone

from tests.conftest import PASSWORD
from tests.twofactor.conftest import code, code_step, logged_in, password_step, wrong_code
from twofactor.enrolment import _replace_recovery_codes
from twofactor.testing import enable_two_factor


def test_the_right_password_leads_to_the_code_step_without_logging_in(client, secret):
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"] == "/login/two-factor/"
    assert not logged_in(client)
    page = client.get("/login/two-factor/").content.decode()
    assert "authenticator app" in page
    assert 'autocomplete="one-time-code"' in page


def test_the_code_from_the_app_logs_in_and_goes_where_the_visitor_was_headed(client, secret):
    client.post("/login/?next=/account/", {"username": "alice@example.com", "password": PASSWORD, "next": "/account/"})
    response = code_step(client, code(secret))
    assert response.status_code == 302
    assert response["Location"] == "/account/"
    assert logged_in(client)


def test_a_wrong_code_is_refused_and_nobody_is_logged_in(client, secret):
    password_step(client)
    response = code_step(client, wrong_code(secret))
    assert response.status_code == 200
    assert "wrong, expired or was already used" in response.content.decode()
    assert not logged_in(client)


def test_a_code_cannot_be_used_twice_within_its_window(client, secret):
    value = code(secret)
    with time_machine.travel(timezone.now(), tick=False):
        password_step(client)
        assert code_step(client, value).status_code == 302
        thief = client.__class__()
        password_step(thief)
        response = code_step(thief, value)
    assert response.status_code == 200
    assert "already used" in response.content.decode()
    assert not logged_in(thief)


def test_the_next_code_works_after_one_was_used(client, secret):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        password_step(client)
        code_step(client, code(secret, now))
        client.post("/logout/")
    later = now + timedelta(seconds=30)
    with time_machine.travel(later, tick=False):
        password_step(client)
        assert code_step(client, code(secret, later)).status_code == 302
    assert logged_in(client)


def test_codes_of_the_neighbouring_time_steps_are_accepted_for_clock_drift_but_not_further(client, secret):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        password_step(client)
        assert code_step(client, code(secret, now, steps=-2)).status_code == 200
        assert code_step(client, code(secret, now, steps=2)).status_code == 200
        assert code_step(client, code(secret, now, steps=-1)).status_code == 302


def test_the_code_step_expires_after_five_minutes(client, secret):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        password_step(client)
    later = start + timedelta(seconds=301)
    with time_machine.travel(later, tick=False):
        response = code_step(client, code(secret, later))
    assert response["Location"] == "/login/"
    assert not logged_in(client)


def test_a_password_change_between_the_two_steps_voids_the_first(client, alice, secret):
    password_step(client)
    alice.set_password("a brand new password 99")
    alice.save()
    response = code_step(client, code(secret))
    assert response["Location"] == "/login/"
    assert not logged_in(client)


def test_the_code_step_without_a_password_first_sends_to_the_login_page(client, secret):
    assert client.get("/login/two-factor/")["Location"] == "/login/"
    assert code_step(client, code(secret))["Location"] == "/login/"
    assert not logged_in(client)


def test_a_recovery_code_logs_in_once_and_says_how_many_are_left(client, alice, secret):
    codes = _replace_recovery_codes(alice)
    password_step(client)
    response = code_step(client, codes[0].upper().replace("-", " "))
    assert response.status_code == 302
    assert "9 left" in client.get(response["Location"]).content.decode()
    client.post("/logout/")
    password_step(client)
    assert code_step(client, codes[0]).status_code == 200
    assert not logged_in(client)


def test_accounts_without_two_factor_log_in_with_the_password_alone(client, alice):
    response = password_step(client)
    assert response["Location"] == "/dashboard/"
    assert logged_in(client)


def test_a_session_that_never_gave_a_code_is_logged_out_once_two_factor_is_on(client, alice):
    client.force_login(alice)  # e.g. another browser, logged in before two-factor was turned on
    assert logged_in(client)
    enable_two_factor(alice)
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert not logged_in(client)
