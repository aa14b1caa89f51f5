"""The SMS code for a forwarding phone allows five tries, even when the tries come all at once.

Real threads on their own database connections, released together by a
barrier: on PostgreSQL in the second CI pass, on SQLite (IMMEDIATE
transactions) in the first.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.contrib.auth import hashers
from django.db import connection
from django.utils import timezone

from telephony import verification
from telephony.models import Forwarding

RIGHT_CODE = "123456"
WRONG_CODES = [f"{n:06d}" for n in range(900000, 900012)]


@pytest.fixture
def code_sent(alice, alice_client, alice_number) -> None:  # type: ignore[no-untyped-def]
    with mock.patch("secrets.randbelow", return_value=int(RIGHT_CODE)):
        response = alice_client.post("/dashboard/forwarding/phone/", {"phone": "+14155550199"})
    assert response.status_code == 302


def confirm(client, code: str) -> bool:  # type: ignore[no-untyped-def]
    client.post("/dashboard/forwarding/phone/confirm/", {"code": code})
    return Forwarding.objects.get().phone_verified


def guess_at_once(user, codes: list[str]) -> int:  # type: ignore[no-untyped-def]
    """Try every code from its own thread at the same moment; how many were compared with the real one."""
    barrier = threading.Barrier(len(codes), timeout=30)
    compared = []
    failures: list[BaseException] = []
    real_check = hashers.check_password

    def counting_check(*args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        compared.append(1)
        return real_check(*args, **kwargs)

    def worker(code: str) -> None:
        try:
            barrier.wait()
            assert verification.confirm_phone(user, code) is False
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()  # this thread's own connection

    with mock.patch.object(verification, "check_password", counting_check):
        threads = [threading.Thread(target=worker, args=(code,)) for code in codes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a guess never finished"
    assert not failures, failures
    return len(compared)


@pytest.mark.django_db(transaction=True)
def test_twelve_wrong_codes_at_once_are_compared_at_most_five_times_and_kill_the_code(
    alice, alice_client, code_sent
) -> None:
    compared = guess_at_once(alice, WRONG_CODES)

    assert compared <= verification.MAX_CODE_ATTEMPTS
    assert Forwarding.objects.get().phone_code_attempts == verification.MAX_CODE_ATTEMPTS
    assert confirm(alice_client, RIGHT_CODE) is False


def test_the_right_code_confirms_the_phone_after_a_few_wrong_ones(alice_client, code_sent) -> None:
    for code in WRONG_CODES[:4]:
        assert confirm(alice_client, code) is False

    assert confirm(alice_client, RIGHT_CODE) is True
    assert Forwarding.objects.get().ring_phone() == "+14155550199"


def test_after_five_wrong_codes_the_right_one_no_longer_works(alice_client, code_sent) -> None:
    for code in WRONG_CODES[:5]:
        assert confirm(alice_client, code) is False

    response = alice_client.post("/dashboard/forwarding/phone/confirm/", {"code": RIGHT_CODE}, follow=True)

    assert "wrong or has expired" in response.content.decode()
    assert Forwarding.objects.get().ring_phone() == ""


def test_a_code_works_once(alice_client, code_sent) -> None:
    assert confirm(alice_client, RIGHT_CODE) is True
    Forwarding.objects.update(phone_verified=False)

    assert confirm(alice_client, RIGHT_CODE) is False


def test_a_code_older_than_fifteen_minutes_is_refused(alice_client, code_sent) -> None:
    with time_machine.travel(timezone.now() + verification.CODE_LIFETIME + timedelta(seconds=1)):
        assert confirm(alice_client, RIGHT_CODE) is False
    assert Forwarding.objects.get().phone_code_attempts == 0


def test_a_new_code_gets_five_fresh_tries_and_the_old_code_is_dead(alice_client, code_sent) -> None:
    for code in WRONG_CODES[:5]:
        confirm(alice_client, code)
    with mock.patch("secrets.randbelow", return_value=654321):
        alice_client.post("/dashboard/forwarding/phone/", {"phone": "+14155550199"})

    assert confirm(alice_client, RIGHT_CODE) is False
    assert confirm(alice_client, "654321") is True
