"""Queuing a job: it lives and dies with the caller's transaction, and its payload is unreadable at rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection, transaction

from numfree.mail import queue_email
from numfree.outbox import crypto, enqueue, job
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending

MARKER = "MARKER-7f3a-sms-body-never-at-rest"


class Boom(Exception):
    pass


@pytest.fixture
def ran() -> list[dict]:
    calls: list[dict] = []
    job("tests.record")(calls.append)
    return calls


@pytest.mark.django_db
def test_a_job_queued_in_a_transaction_that_rolls_back_leaves_nothing(ran):
    with pytest.raises(Boom), transaction.atomic():
        enqueue("tests.record", {"n": 1})
        queue_email("alice@example.com", "Welcome", "outbox_tests/plain.txt", {"line": "hi"})
        raise Boom

    assert Job.objects.count() == 0
    assert run_pending() == 0
    assert ran == []


@pytest.mark.django_db
def test_a_job_queued_in_a_committed_transaction_runs_once_with_its_payload(ran):
    with transaction.atomic():
        job_id = enqueue("tests.record", {"n": 1, "text": "é ✓"})

    assert Job.objects.filter(pk=job_id).exists()
    assert run_pending() == 1
    assert ran == [{"n": 1, "text": "é ✓"}]
    assert not Job.objects.filter(pk=job_id).exists()
    assert run_pending() == 0


@pytest.mark.django_db
def test_a_delayed_job_waits_for_its_time(ran, time_machine):
    time_machine.move_to("2030-01-01 12:00Z", tick=False)
    enqueue("tests.record", {"n": 1}, delay=60)

    assert run_pending() == 0
    time_machine.move_to("2030-01-01 12:01Z", tick=False)
    assert run_pending() == 1
    assert ran == [{"n": 1}]


@pytest.mark.django_db
def test_a_dedupe_key_queues_the_job_once_while_it_is_pending(ran):
    first = enqueue("tests.record", {"n": 1}, dedupe_key="delete-message:SM1")
    with transaction.atomic():
        second = enqueue("tests.record", {"n": 2}, dedupe_key="delete-message:SM1")
        # The caller's transaction is still usable after the duplicate.
        enqueue("tests.record", {"n": 3})

    assert first is not None and second is None
    run_pending()
    assert sorted(call["n"] for call in ran) == [1, 3]
    assert enqueue("tests.record", {"n": 4}, dedupe_key="delete-message:SM1") is not None


@pytest.mark.django_db
def test_queuing_an_unknown_kind_or_a_non_object_payload_is_refused(ran):
    with pytest.raises(LookupError):
        enqueue("tests.no_such_job", {})
    with pytest.raises(TypeError):
        enqueue("tests.record", ["not", "an", "object"])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        enqueue("tests.record", {"when": object()})
    assert Job.objects.count() == 0


def _database_bytes() -> bytes:
    path = Path(connection.settings_dict["NAME"])
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.mark.skipif("connection.vendor != 'sqlite'")
@pytest.mark.django_db(transaction=True)
def test_the_payload_is_not_in_the_sqlite_file_or_wal_and_is_zeroed_once_sent(ran):
    job_id = enqueue("tests.record", {"body": MARKER}, dedupe_key="PLAINTEXT-CONTROL-4411")
    raw = _database_bytes()
    token = bytes(Job.objects.get(pk=job_id).payload)

    # (Booleans first: a failure must not print the whole database.)
    control_found, marker_found, token_found = b"PLAINTEXT-CONTROL-4411" in raw, MARKER.encode() in raw, token in raw
    assert control_found  # the grep does find what is stored in clear
    assert not marker_found
    assert token_found  # only the ciphertext is there
    assert crypto.unseal("tests.record", token) == {"body": MARKER}

    assert run_pending() == 1
    assert ran == [{"body": MARKER}]
    raw = _database_bytes()
    lingering = token in raw or token[:40] in raw
    assert not lingering  # secure_delete zeroed the row; the WAL was truncated


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_payload_column_on_postgresql_holds_no_plaintext(ran):
    enqueue("tests.record", {"body": MARKER})
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload, kind FROM outbox_job")
        payload, kind = cursor.fetchone()

    assert kind == "tests.record"
    assert MARKER.encode() not in bytes(payload)
    assert crypto.unseal("tests.record", bytes(payload)) == {"body": MARKER}


@pytest.mark.django_db
def test_a_payload_sealed_with_a_retired_key_still_opens_while_the_key_is_listed(ran, settings):
    settings.OUTBOX_KEYS = ["old key"]
    enqueue("tests.record", {"n": 1})
    settings.OUTBOX_KEYS = ["new key", "old key"]
    enqueue("tests.record", {"n": 2})

    assert run_pending() == 2
    assert sorted(call["n"] for call in ran) == [1, 2]


@pytest.mark.django_db
def test_a_payload_does_not_open_under_another_kind_or_without_its_key(ran, settings):
    token = crypto.seal("tests.record", {"n": 1})
    with pytest.raises(crypto.UnreadablePayload):
        crypto.unseal("mail.send", token)
    settings.OUTBOX_KEYS = ["some other key"]
    with pytest.raises(crypto.UnreadablePayload):
        crypto.unseal("tests.record", token)
