"""Code guessing: an atomic per-account counter, a per-IP limit, an email to the owner.

The concurrent tests run real threads on real database connections, released
together by a barrier; the PostgreSQL runs are the ones that matter.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import make_user
from tests.twofactor.conftest import code, code_step, emails_to, logged_in, password_step, wrong_code
from twofactor import verification
from twofactor.enrolment import _replace_recovery_codes
from twofactor.models import Authenticator
from twofactor.testing import enable_two_factor

THREADS = 12


def at_once(task: Callable[[], object], threads: int = THREADS) -> list[object]:
    barrier = threading.Barrier(threads, timeout=30)
    results: list[object] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            outcome = task()
            with lock:
                results.append(outcome)
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers)
    assert not failures, failures
    return results


def attempt(user, value: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return verification.check_code(user, value)
    except verification.TooManyAttempts:
        return "limited"
    except verification.CodeRejected:
        return "rejected"


def test_after_five_wrong_codes_even_the_right_one_waits_until_the_window_ends(client, secret, settings):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        password_step(client)
        for _ in range(settings.TWO_FACTOR_MAX_FAILURES):
            assert code_step(client, wrong_code(secret)).status_code == 200
        response = code_step(client, code(secret))
    assert response.status_code == 429
    assert int(response["Retry-After"]) == settings.TWO_FACTOR_FAILURE_WINDOW_SECONDS
    assert "Too many attempts" in response.content.decode()
    assert not logged_in(client)
    later = start + timedelta(seconds=settings.TWO_FACTOR_FAILURE_WINDOW_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        password_step(client)
        assert code_step(client, code(secret, later)).status_code == 302


def test_wrong_codes_anywhere_lock_the_code_step_from_any_other_address(client, alice, secret, settings):
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(settings.TWO_FACTOR_MAX_FAILURES):
            attempt(alice, wrong_code(secret))
        password_step(client, REMOTE_ADDR="198.51.100.77")
        assert code_step(client, code(secret), REMOTE_ADDR="198.51.100.77").status_code == 429


def test_a_right_code_empties_the_counter(alice, secret, settings):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        for _ in range(settings.TWO_FACTOR_MAX_FAILURES - 1):
            assert attempt(alice, wrong_code(secret)) == "rejected"
        assert attempt(alice, code(secret, now)) == "totp"
        for _ in range(settings.TWO_FACTOR_MAX_FAILURES - 1):
            assert attempt(alice, wrong_code(secret)) == "rejected"
    assert Authenticator.objects.get(user=alice).failures == settings.TWO_FACTOR_MAX_FAILURES - 1


def test_the_owner_is_emailed_once_when_the_limit_is_reached(alice, secret, settings):
    with time_machine.travel(timezone.now(), tick=False):
        for _ in range(settings.TWO_FACTOR_MAX_FAILURES + 3):
            attempt(alice, wrong_code(secret))
    alerts = [m for m in emails_to("alice@example.com") if "wrong two-factor codes" in m.body]
    assert len(alerts) == 1
    assert secret not in alerts[0].body


def test_code_pages_are_limited_per_ip_too(client, db, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "two_factor_ip": "3/m", "login_account": "100/m"}
    users = [make_user(f"user{n}@example.com") for n in range(4)]
    secrets = [enable_two_factor(user) for user in users]
    with time_machine.travel(timezone.now(), tick=False):
        statuses = []
        for user, secret in zip(users, secrets, strict=True):
            browser = Client(REMOTE_ADDR="203.0.113.9")
            password_step(browser, user.email)
            statuses.append(code_step(browser, wrong_code(secret)).status_code)
    assert statuses == [200, 200, 200, 429]


def _concurrent_wrong_codes(settings) -> None:  # type: ignore[no-untyped-def]
    user = make_user("racer@example.com")
    secret = enable_two_factor(user)
    with time_machine.travel(timezone.now(), tick=False):
        outcomes = Counter(at_once(lambda: attempt(user, wrong_code(secret))))
    limit = settings.TWO_FACTOR_MAX_FAILURES
    assert outcomes == {"rejected": limit, "limited": THREADS - limit}, outcomes
    assert Authenticator.objects.get(user=user).failures == limit


def _concurrent_same_code(kind: str) -> None:
    user = make_user("racer@example.com")
    secret = enable_two_factor(user)
    value = _replace_recovery_codes(user)[0] if kind == "recovery" else code(secret)
    with time_machine.travel(timezone.now(), tick=False):
        outcomes = Counter(at_once(lambda: attempt(user, value), threads=5))
    assert outcomes == {kind: 1, "rejected": 4}, outcomes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_codes_never_get_more_than_the_limit_of_tries_on_postgresql(settings):
    _concurrent_wrong_codes(settings)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["totp", "recovery"])
def test_one_code_used_by_concurrent_requests_works_once_on_postgresql(kind):
    _concurrent_same_code(kind)


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_codes_never_get_more_than_the_limit_of_tries(settings):
    _concurrent_wrong_codes(settings)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["totp", "recovery"])
def test_one_code_used_by_concurrent_requests_works_once(kind):
    _concurrent_same_code(kind)
