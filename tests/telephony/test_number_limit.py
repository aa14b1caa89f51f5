"""One number per account, even when two purchases are submitted at the same moment.

Real threads on their own database connections, released together by a
barrier (PostgreSQL and Redis in the second CI pass, SQLite and the
local-memory cache in the first).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from telephony import twilio_api, twilio_fake
from telephony.models import PhoneNumber


def buy_at_once(user, picks: list[str]) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(len(picks), timeout=30)
    failures: list[BaseException] = []

    def worker(e164: str) -> None:
        browser = Client()
        try:
            browser.force_login(user)
            barrier.wait()
            assert browser.post("/dashboard/number/buy/", {"e164": e164, "country": "US"}).status_code == 302
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(e164,)) for e164 in picks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a purchase never answered"
    assert not failures, failures


@pytest.mark.django_db(transaction=True)
def test_two_purchases_submitted_at_once_leave_one_number_held_here_and_at_twilio(alice, alice_plan) -> None:
    picks = [found.e164 for found in twilio_api.search_numbers("US", "415")[:4]]

    buy_at_once(alice, picks)

    assert PhoneNumber.objects.filter(user=alice).count() == 1
    assert twilio_fake.count("number") == 1  # the others were never bought, or were given back
