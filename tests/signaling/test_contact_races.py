"""Two people acting on one relation at the same moment: still one row, and no consent from a race.

Real threads on real database connections, released together by a barrier,
many rounds. PostgreSQL is where this matters (row locks); SQLite runs the
same rounds in the embedded pass (IMMEDIATE transactions serialize them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from signaling import contacts
from signaling.models import Contact
from tests.conftest import make_user

ROUNDS = 15


def at_once(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released together; their results or exceptions, in order."""
    barrier = threading.Barrier(len(actions), timeout=30)
    results: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = action()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "an action never finished"
    return results


def statuses(user: Any) -> dict[str, str]:
    return {c.email: c.status for c in contacts.list_contacts(user)}


def crossing_asks_make_one_mutual_contact() -> None:
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    for _ in range(ROUNDS):
        Contact.objects.all().delete()
        answers = at_once(lambda: contacts.ask(alice, bob.email), lambda: contacts.ask(bob, alice.email))
        assert not [a for a in answers if isinstance(a, Exception)], answers
        assert Contact.objects.count() == 1
        assert statuses(alice) == {"bob@example.com": "mutual"}
        assert {a.status for a in answers} == {"outgoing", "mutual"}


def a_withdrawal_racing_an_accept_never_leaves_a_mutual_contact() -> None:
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    for _ in range(ROUNDS):
        Contact.objects.all().delete()
        asked = contacts.ask(alice, bob.email)
        answers = at_once(
            lambda contact_id=asked.id: contacts.remove(alice, contact_id),
            lambda contact_id=asked.id: contacts.accept(bob, contact_id),
        )
        accepted = answers[1]
        assert answers[0] is None
        if isinstance(accepted, contacts.ContactError):
            assert accepted.code == "not_found"
        else:
            assert accepted.status == "mutual"  # accepted first; the withdrawal then removed it for both
        assert statuses(alice) == statuses(bob) == {}


def asking_again_while_they_accept_a_request_from_before_they_signed_up_makes_one_mutual_contact() -> None:
    alice = make_user("alice@example.com")
    for round_ in range(ROUNDS):
        Contact.objects.all().delete()
        email = f"bob{round_}@example.com"
        asked = contacts.ask(alice, email)  # no account yet: the row is bound when Bob acts on it
        bob = make_user(email)
        answers = at_once(
            lambda email=email: contacts.ask(alice, email),
            lambda bob=bob, contact_id=asked.id: contacts.accept(bob, contact_id),
        )
        assert not [a for a in answers if isinstance(a, Exception)], answers
        assert statuses(alice) == {email: "mutual"}
        assert Contact.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_asking_again_while_they_accept_on_postgresql_neither_fails_nor_makes_two_rows() -> None:
    asking_again_while_they_accept_a_request_from_before_they_signed_up_makes_one_mutual_contact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_crossing_asks_on_postgresql_make_one_mutual_contact() -> None:
    crossing_asks_make_one_mutual_contact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_racing_an_accept_on_postgresql_never_leaves_a_mutual_contact() -> None:
    a_withdrawal_racing_an_accept_never_leaves_a_mutual_contact()


@pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the PostgreSQL tests above cover this database")
@pytest.mark.django_db(transaction=True)
def test_crossing_asks_on_sqlite_make_one_mutual_contact() -> None:
    crossing_asks_make_one_mutual_contact()


@pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the PostgreSQL tests above cover this database")
@pytest.mark.django_db(transaction=True)
def test_a_withdrawal_racing_an_accept_on_sqlite_never_leaves_a_mutual_contact() -> None:
    a_withdrawal_racing_an_accept_never_leaves_a_mutual_contact()


@pytest.mark.skipif(settings.DATABASE_IS_POSTGRES, reason="the PostgreSQL test above covers this database")
@pytest.mark.django_db(transaction=True)
def test_asking_again_while_they_accept_on_sqlite_neither_fails_nor_makes_two_rows() -> None:
    asking_again_while_they_accept_a_request_from_before_they_signed_up_makes_one_mutual_contact()
