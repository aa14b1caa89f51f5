"""Contacts stored before the consent state machine keep what each person saw, and gain its rules."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from signaling import contacts
from tests.conftest import make_user

BEFORE = [("signaling", "0001_initial")]
AFTER = [("signaling", "0002_contact_stances")]


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def statuses(user: Any) -> dict[str, str]:
    return {c.email: c.status for c in contacts.list_contacts(user)}


@pytest.mark.django_db(transaction=True)
def test_old_rows_keep_what_each_person_saw_and_an_old_block_still_waits_for_an_accept() -> None:
    alice, bob, carol, dave = (make_user(f"{name}@example.com") for name in ("alice", "bob", "carol", "dave"))
    old = migrate(BEFORE).get_model("signaling", "Contact")
    try:
        old.objects.create(requester_id=alice.pk, addressee_id=bob.pk, addressee_email=bob.email, status="mutual")
        old.objects.create(requester_id=alice.pk, addressee_id=carol.pk, addressee_email=carol.email, status="pending")
        old.objects.create(requester_id=dave.pk, addressee_id=carol.pk, addressee_email=carol.email, status="declined")
        # The old code stored a block with the blocked person (bob) as requester: Carol blocked Bob.
        old.objects.create(requester_id=bob.pk, addressee_id=carol.pk, addressee_email=carol.email, status="blocked")
    finally:
        migrate(AFTER)

    assert statuses(alice) == {"bob@example.com": "mutual", "carol@example.com": "outgoing"}
    assert statuses(carol) == {"alice@example.com": "incoming"}
    assert statuses(dave) == {"carol@example.com": "outgoing"}
    assert statuses(bob) == {"alice@example.com": "mutual", "carol@example.com": "outgoing"}
    assert contacts.ask(carol, "bob@example.com").status == "outgoing"
    assert statuses(bob)["carol@example.com"] == "incoming"


@pytest.mark.django_db(transaction=True)
def test_stored_addresses_become_email_keys_and_a_second_spelling_of_one_ask_goes() -> None:
    alice = make_user("alice@example.com")
    old = migrate(AFTER).get_model("signaling", "Contact")
    try:
        first = old.objects.create(
            requester_id=alice.pk, addressee_email="dave@b\u00fccher.example", requester_stance="asked"
        )
        old.objects.create(
            requester_id=alice.pk, addressee_email="dave@xn--bcher-kva.example", requester_stance="asked"
        )
    finally:
        migrate([("signaling", "0003_contact_addresses_by_email_key")])

    from signaling.models import Contact

    assert list(Contact.objects.values_list("pk", "addressee_email")) == [(first.pk, "dave@xn--bcher-kva.example")]
    dave = make_user("Dave@XN--BCHER-KVA.example")
    assert statuses(dave) == {"alice@example.com": "incoming"}
