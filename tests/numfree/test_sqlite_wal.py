"""The embedded mode's WAL checkpoint never holds the site's writes behind a slow reader."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
from django.db import connection

from accounts.models import User
from numfree.sqlite_wal import truncate_wal

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sqlite_file() -> str:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write-ahead log only: this run is on " + connection.vendor)
    connection.ensure_connection()
    return connection.settings_dict["NAME"]


def _wal_bytes(path: str) -> int:
    return os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0


def test_a_reader_on_an_old_snapshot_no_longer_holds_writes_for_the_busy_timeout(sqlite_file: str) -> None:
    User.objects.create_user(email="first@example.com", password="x" * 12)
    reader = sqlite3.connect(sqlite_file, timeout=0.1, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM accounts_user").fetchone()  # a snapshot that reads the WAL
        User.objects.create_user(email="second@example.com", password="x" * 12)

        started = time.monotonic()
        assert truncate_wal() is False  # the reader keeps it from finishing
        waited = time.monotonic() - started
        # The old checkpoint waited out the connection's 20 s busy timeout, with the writer lock held.
        assert waited < 5, f"the checkpoint held writes for {waited:.1f} s"

        writer = sqlite3.connect(sqlite_file, timeout=0.1, isolation_level=None)
        try:
            writer.execute("UPDATE accounts_user SET time_zone = 'Europe/Paris' WHERE email = 'first@example.com'")
        finally:
            writer.close()
        assert _wal_bytes(sqlite_file) > 0
    finally:
        reader.execute("COMMIT")
        reader.close()

    assert truncate_wal() is True
    assert _wal_bytes(sqlite_file) == 0
    assert User.objects.get(email="first@example.com").time_zone == "Europe/Paris"


def test_inside_a_transaction_it_waits_for_later(sqlite_file: str) -> None:
    from django.db import transaction

    with transaction.atomic():
        assert truncate_wal() is False
