"""A call-log write on a freshly opened SQLite connection commits even if something else briefly
holds a reference to the cursors Django used to set the connection up.

Django's SQLite backend runs each statement of OPTIONS["init_command"] with
`conn.execute(...)` and drops the returned cursor, trusting reference counting to
free it (and so reset its statement) at once. `PRAGMA journal_mode=WAL` and
`PRAGMA secure_delete=ON` return a row: their statement is left stepped and
unfinished until that cursor is freed. Any other thread holding a reference for
a moment (here `gc.get_objects()`, as the memory test's counting handler does;
a profiler or debugger alike) keeps it alive, and the connection's first COMMIT
fails with "cannot commit transaction - SQL statements in progress": the call
row is lost. A write outside a transaction (log_call_answered's UPDATE) raises
nothing but is not committed while that statement runs: other connections do not
see it, and it holds SQLite's write lock, until the cursor is freed. These tests
stand in for that other thread by keeping every such cursor.
"""

from __future__ import annotations

import sqlite3

import pytest
from django.conf import settings
from django.db import connection
from django.db.backends.sqlite3 import base as sqlite_base
from django.utils import timezone

from signaling import call_log
from telephony.models import CallLog
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


class _Held(sqlite3.Connection):
    """A connection whose `execute()` cursors stay referenced, as if another thread looked at them."""

    held: list[sqlite3.Cursor] = []

    def execute(self, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        cursor = super().execute(*args, **kwargs)
        self.held.append(cursor)
        return cursor


def test_the_first_call_log_write_on_a_new_connection_commits(monkeypatch):
    if settings.DATABASE_IS_POSTGRES:
        pytest.skip("SQLite's connection setup; this pass runs on PostgreSQL")
    caller, callee = make_user("caller@example.com"), make_user("callee@example.com")
    real_connect = sqlite_base.Database.connect
    connection.close()  # the next query opens a new connection, through the patched connect
    try:
        with monkeypatch.context() as patch:
            patch.setattr(sqlite_base.Database, "connect", lambda *a, **kw: real_connect(*a, **kw, factory=_Held))
            call_log.log_call_started("call-new-conn", caller.pk, callee.pk, caller.date_joined)
            assert isinstance(connection.connection, _Held)
    finally:
        _Held.held.clear()
        connection.close()
    assert CallLog.objects.filter(external_id="call-new-conn").count() == 2


def test_a_call_log_update_outside_a_transaction_on_a_new_connection_is_committed(monkeypatch):
    if settings.DATABASE_IS_POSTGRES:
        pytest.skip("SQLite's connection setup; this pass runs on PostgreSQL")
    caller, callee = make_user("caller@example.com"), make_user("callee@example.com")
    call_log.log_call_started("call-new-conn", caller.pk, callee.pk, caller.date_joined)
    real_connect = sqlite_base.Database.connect
    connection.close()
    other = connection.copy()  # another thread's connection, opened without the patch
    try:
        with monkeypatch.context() as patch:
            patch.setattr(sqlite_base.Database, "connect", lambda *a, **kw: real_connect(*a, **kw, factory=_Held))
            call_log.log_call_answered("call-new-conn", caller.pk, callee.pk, timezone.now())
            assert isinstance(connection.connection, _Held)
        with other.cursor() as cursor:  # while the setup cursors are still held
            cursor.execute(
                "SELECT COUNT(*) FROM telephony_calllog WHERE external_id = %s AND answered_at IS NOT NULL",
                ["call-new-conn"],
            )
            assert cursor.fetchone()[0] == 2
    finally:
        other.close()
        connection.close()
        _Held.held.clear()
