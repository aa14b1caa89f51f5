"""After deletion and a drained worker, no table, raw database file or log line holds a trace of the user."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client

from tests.conftest import PASSWORD, make_user

EMAIL = "erin.trace@example.org"
NUMBER = "+15557654321"
PEER = "+15550001111"


def _seed_everything(erin, bob, staff) -> None:
    """Rows in every app that exists, the way the product would write them."""
    from django.contrib.admin.models import CHANGE, LogEntry

    from privacy.models import DataSubjectRequest, Objection, PageView, StaffAccess
    from telephony.models import CallLog, PhoneNumber, SmsLog, Voicemail

    PhoneNumber.objects.create(user=erin, e164=NUMBER, twilio_sid="PN" + "a" * 32, country="US")
    CallLog.objects.create(user=erin, kind="phone", direction="in", external_id="CA" + "b" * 32, peer_number=PEER)
    CallLog.objects.create(user=erin, kind="app", direction="out", external_id="call-erin-bob", peer_user=bob)
    CallLog.objects.create(user=bob, kind="app", direction="in", external_id="call-erin-bob", peer_user=erin)
    SmsLog.objects.create(
        user=erin, direction="in", message_sid="SM" + "c" * 32, peer_number=PEER, our_number=NUMBER, status="forwarded"
    )
    voicemail = Voicemail(user=erin, recording_sid="RE" + "d" * 32, call_sid="CA" + "b" * 32, peer_number=PEER)
    voicemail.audio.save("erin.mp3", ContentFile(b"ID3 erin's voicemail"), save=True)
    PageView.objects.create(user=erin, ip="198.51.100.23", browser="Firefox", path="/dashboard/")
    Objection.objects.create(user=erin, kind="usage_analytics", objected=False)
    StaffAccess.objects.create(staff=staff, staff_label=staff.email, subject=erin, what="User (change page)")
    DataSubjectRequest.objects.create(kind="access", source="email", requester_email=EMAIL, requester_name="Erin Trace")
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[erin], action_flag=CHANGE, change_message="x", single_object=True
    )


def _rows_mentioning(user_id: int) -> list[str]:
    found = []
    user_table = get_user_model()._meta.db_table
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                text = " ".join(str(value) for value in row)
                if EMAIL in text.lower() or NUMBER in text or "Erin Trace" in text:
                    found.append(f"{table}: {text[:120]}")
            relations = connection.introspection.get_relations(cursor, table)
            for column, (_target_column, target_table) in relations.items():
                if target_table == user_table:
                    cursor.execute(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = %s', [user_id])
                    if cursor.fetchone()[0]:
                        found.append(f"{table}.{column} = {user_id}")
            if table == user_table and "id" in columns:
                cursor.execute(f'SELECT COUNT(*) FROM "{table}" WHERE id = %s', [user_id])
                if cursor.fetchone()[0]:
                    found.append(f"{table} still has the account")
    return found


@pytest.mark.django_db(transaction=True)
def test_no_trace_of_a_deleted_user_remains_in_tables_files_or_logs(drain, caplog, settings):
    caplog.set_level(logging.DEBUG)
    erin = make_user(EMAIL, name="Erin Trace")
    bob = make_user("bob@example.com")
    staff = make_user("support@numfree.com")
    staff.is_staff = True
    staff.save()
    _seed_everything(erin, bob, staff)
    assert _rows_mentioning(erin.pk), "the seed must leave traces for the test to mean anything"

    browser = Client()
    assert browser.login(email=EMAIL, password=PASSWORD)
    browser.get("/privacy/center/")
    assert browser.post("/privacy/center/delete/", {"password": PASSWORD}).status_code == 200
    drain()

    assert _rows_mentioning(erin.pk) == []
    assert apps.get_model("telephony", "CallLog").objects.get(user=bob).peer == "deleted user"
    private = Path(settings.PRIVATE_FILES_DIR)
    leftovers = [p for p in private.rglob("*") if p.is_file()] if private.exists() else []
    assert leftovers == []
    if connection.vendor == "sqlite":
        connection.close()  # let SQLite checkpoint and release the files
        database = Path(settings.DATABASES["default"]["NAME"])
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-journal")):
            if path.exists():
                raw = path.read_bytes().lower()
                assert EMAIL.encode() not in raw, path.name
                assert NUMBER.encode() not in raw, path.name
    assert EMAIL not in caplog.text.lower() and NUMBER not in caplog.text


# --- the whole product, erased by a real worker process -------------------------
NAME = "Erin Trace"
FRIEND = "+14155550177"
MANAGE = str(Path(__file__).resolve().parents[2] / "manage.py")


def _raw_traces(needles: list[bytes], *paths: Path) -> list[str]:
    found = []
    for path in paths:
        if path.exists() and path.is_file():
            raw = path.read_bytes()
            found += [f"{path.name}: {needle.decode()}" for needle in needles if needle in raw or needle in raw.lower()]
    return found


@pytest.mark.django_db(transaction=True)
def test_an_account_that_texted_got_voicemail_and_paid_leaves_no_trace_after_a_real_worker_pass(
    subprocess_env, settings, tmp_path, caplog
):
    import subprocess
    import sys
    import time

    from privacy.models import DataSubjectRequest
    from telephony.models import PhoneNumber, SmsLog
    from tests.privacy.test_deletion_at_providers import (
        PHONE,
        _an_account_that_texted_got_voicemail_and_paid,
        _run_until_the_providers_are_done,
    )

    caplog.set_level(logging.DEBUG)
    settings.PUBLIC_URL = "http://127.0.0.1:9"  # the fake Stripe's event deliveries reach no real server
    erin = make_user(EMAIL, name=NAME)
    browser = Client()
    at_providers = _an_account_that_texted_got_voicemail_and_paid(browser, erin)
    number = PhoneNumber.objects.get(user=erin).e164
    assert SmsLog.objects.filter(user=erin, peer_number=FRIEND).count() == 2  # sent one, received one
    needles = [EMAIL.encode(), NAME.encode(), number.encode(), FRIEND.encode(), PHONE.encode()]
    database = Path(settings.DATABASES["default"]["NAME"])
    if connection.vendor == "sqlite":
        assert _raw_traces(needles, database, Path(f"{database}-wal")), "the seed must leave traces"

    assert browser.post("/privacy/center/delete/", {"password": PASSWORD}).status_code == 200
    started = time.perf_counter()
    worker = subprocess.run(
        [sys.executable, MANAGE, "worker", "--burst"],
        env={
            **subprocess_env,
            "NUMFREE_DATA_DIR": str(tmp_path),  # the same private files as this test
            "NUMFREE_PUBLIC_URL": settings.PUBLIC_URL,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        },
        capture_output=True,
        timeout=120,
    )
    local_erasure_seconds = time.perf_counter() - started
    assert worker.returncode == 0, worker.stderr.decode()[-2000:]
    print(f"local erasure by one worker pass: {local_erasure_seconds:.2f} s")
    assert local_erasure_seconds < 60
    assert not get_user_model().objects.filter(pk=erin.pk).exists()
    assert DataSubjectRequest.objects.get(kind="deletion").status == "fulfilled"
    worker_output = (worker.stdout + worker.stderr).lower()
    assert not [needle for needle in needles if needle.lower() in worker_output]

    request = DataSubjectRequest.objects.get(kind="deletion")
    _run_until_the_providers_are_done(request)  # Twilio was still busy with some texts: 20009, then done
    from numfree.outbox.models import Job
    from privacy.erasure import reference_of
    from telephony import twilio_fake

    assert not Job.objects.referring_to(reference_of(request.pk)).exists()
    assert (twilio_fake.count("number"), twilio_fake.count("message"), twilio_fake.count("recording")) == (0, 0, 0)

    assert _rows_mentioning(erin.pk) == []
    private = Path(settings.PRIVATE_FILES_DIR)
    assert not [p for p in private.rglob("*") if p.is_file()] if private.exists() else True
    if connection.vendor == "sqlite":
        connection.close()  # let SQLite checkpoint and release the files
        assert _raw_traces(needles, database, Path(f"{database}-wal"), Path(f"{database}-journal")) == []
    # Stripe keeps its invoices (with the customer's email), as the real one does: in its own store, not ours.
    fakes = Path(settings.FAKES_DB)
    assert fakes != database and _raw_traces([EMAIL.encode()], fakes, Path(f"{fakes}-wal"))
    assert at_providers["customer"]
    text = caplog.text.lower()
    assert not [needle for needle in needles if needle.decode().lower() in text]
