"""SQLite (the embedded mode): empty the write-ahead log without stalling the site's writes.

Erased payloads (a forwarded text's body, an erased account) are zeroed in the
database file by `secure_delete`, but older copies of their pages stay in the
WAL until a TRUNCATE checkpoint copies them back and empties it. That
checkpoint takes the writer lock and then waits for every reader still on an
older snapshot (a long export, a page being read). With the connection's own
20 s busy timeout, every sign-up, webhook and save of the site waited behind it
for as long as that reader took. Here the checkpoint waits at most `wait_ms`
for readers; when it can't finish it says so, writes go on, and the caller
tries again later.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection

WAIT_MS = 200


def set_pragmas(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created`: settings.SQLITE_PRAGMAS on a new SQLite connection.

    executescript() steps each statement to its end and finalizes it, so no pragma is left
    half-run on the connection whoever else holds a reference to anything (Django's
    `init_command` leaves that to its dropped cursor being freed at once). A statement left
    running there makes the connection's first COMMIT or SAVEPOINT fail with "SQL statements
    in progress" (tests/signaling/test_call_log_new_connection.py).
    """
    if connection.vendor != "sqlite":
        return
    connection.connection.executescript("".join(f"PRAGMA {pragma};" for pragma in settings.SQLITE_PRAGMAS))


def truncate_wal(wait_ms: int = WAIT_MS) -> bool:
    """One TRUNCATE checkpoint that holds writers up for at most about `wait_ms`.

    True when the WAL is empty afterwards (or there is none: not SQLite), False
    when a reader kept it from finishing (try again later). Inside a
    transaction it can't run and answers False.
    """
    if connection.vendor != "sqlite":
        return True
    if connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout")
        usual = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
        try:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cursor.fetchone()[0]
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(usual)}")
    return not busy


def truncate_wal_soon(within_s: float = 20.0, pause_s: float = 0.5) -> bool:
    """Try `truncate_wal` until it finishes or `within_s` passes, letting writes through between tries."""
    if connection.in_atomic_block:
        return connection.vendor != "sqlite"
    deadline = time.monotonic() + within_s
    while True:
        if truncate_wal():
            return True
        if time.monotonic() + pause_s > deadline:
            return False
        time.sleep(pause_s)
