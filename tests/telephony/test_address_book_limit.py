"""The address book's limit holds even when names are saved at the same moment.

Real threads on their own database connections, released together by a barrier, each
naming a different number through the page: the count and the new row are one step per
account (the user's row is locked), so racing saves cannot pass the limit together.
PostgreSQL in the second CI pass; the same race on SQLite in the first.
"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from telephony import people
from telephony.models import NamedNumber

LIMIT = 5
RACERS = 12


def name_at_once(user, numbers: list[str]) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    """POSTs one name per number from its own thread, all released together: [(status, page text)]."""
    barrier = threading.Barrier(len(numbers), timeout=30)
    answers: list[tuple[int, str]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def worker(number: str) -> None:
        browser = Client()
        try:
            browser.force_login(user)
            barrier.wait()
            response = browser.post("/dashboard/people/name/", {"number": number, "name": f"Caller {number[-2:]}"})
            with lock:
                answers.append((response.status_code, response.content.decode()))
        except BaseException as exc:
            with lock:
                failures.append(exc)
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=worker, args=(number,)) for number in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a save never answered"
    assert not failures, failures
    return answers


def assert_the_limit_holds(user, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(people, "MAX_NAMED_NUMBERS", LIMIT)
    for n in range(LIMIT - 1):
        NamedNumber.objects.create(user=user, number=f"+1415555010{n}", name=f"Friend {n}")
    numbers = [f"+141555501{n + 10:02d}" for n in range(RACERS)]

    answers = name_at_once(user, numbers)

    assert NamedNumber.objects.filter(user=user).count() == LIMIT
    saved = [text for status, text in answers if status == 302]
    refused = [text for status, text in answers if status == 200]
    assert len(saved) == 1 and len(refused) == RACERS - 1, [status for status, _ in answers]
    assert all(f"Your address book is full ({LIMIT} names); remove one first." in text for text in refused)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twelve_names_saved_at_once_on_postgresql_fill_the_last_place_once(alice, monkeypatch) -> None:
    assert connection.vendor == "postgresql"
    assert_the_limit_holds(alice, monkeypatch)


@pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the PostgreSQL test above covers this database")
@pytest.mark.django_db(transaction=True)
def test_twelve_names_saved_at_once_on_sqlite_fill_the_last_place_once(alice, monkeypatch) -> None:
    assert_the_limit_holds(alice, monkeypatch)


@pytest.mark.django_db
def test_renaming_a_number_in_a_full_address_book_still_works(alice, alice_client, monkeypatch) -> None:
    monkeypatch.setattr(people, "MAX_NAMED_NUMBERS", 1)
    NamedNumber.objects.create(user=alice, number="+14155550100", name="Dentist")

    renamed = alice_client.post("/dashboard/people/name/", {"number": "+14155550100", "name": "Dr Lee"})
    refused = alice_client.post("/dashboard/people/name/", {"number": "+14155550111", "name": "Plumber"})

    assert renamed.status_code == 302
    assert refused.status_code == 200 and "Your address book is full (1 name)" in refused.content.decode()
    assert list(NamedNumber.objects.values_list("name", flat=True)) == ["Dr Lee"]
