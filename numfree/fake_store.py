"""The local fakes' own database: what Twilio and Stripe hold, kept apart from NumFree's, as at the real providers.

A small SQLite file (settings.FAKES_DB, `var/fakes.sqlite3` by default; each
test gets a fresh one) opened with Python's sqlite3 module in WAL mode, so the
web and worker processes see one "Twilio" and one "Stripe". Every fake request
is a transaction of its own here (`BEGIN IMMEDIATE` takes the file's write
lock up front), so nothing NumFree rolls back can undo what a provider did,
and nothing a provider keeps (a customer's email on an invoice) ever lands in
NumFree's database.

Rows are JSON objects keyed by (provider, id), with a kind and optional bytes
(a recording's audio). Failures can be injected per provider, method and
path, so tests (and the embedded mode) can make a provider answer 503 or
Twilio's 20009 at the HTTP seam, across processes.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resource (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    content BLOB NOT NULL DEFAULT x'',
    UNIQUE (provider, id)
);
CREATE INDEX IF NOT EXISTS resource_by_kind ON resource (provider, kind, seq);
CREATE TABLE IF NOT EXISTS failure (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    method TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL DEFAULT '{}',
    remaining INTEGER
);
"""
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Resource:
    provider: str
    kind: str
    id: str
    data: dict[str, Any]
    content: bytes = b""


@dataclass(frozen=True)
class InjectedFailure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class _Local(threading.local):
    path: Path | None = None
    connection: sqlite3.Connection | None = None
    depth: int = 0

    def __init__(self) -> None:
        self.after_commit: list[Callable[[], None]] = []


_local = _Local()


def path() -> Path:
    return Path(settings.FAKES_DB)


def _connection() -> sqlite3.Connection:
    """This thread's connection to the current store file (a new file, e.g. a new test's, gets a new one)."""
    wanted = path()
    if _local.connection is not None and _local.path == wanted:
        return _local.connection
    close()
    wanted.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(wanted, timeout=20, isolation_level=None)
    # Run to their end (not execute(): journal_mode's and secure_delete's row would leave them
    # running until the dropped cursor is freed; see numfree.sqlite_wal.set_pragmas).
    connection.executescript("PRAGMA journal_mode=WAL; PRAGMA secure_delete=ON; PRAGMA synchronous=NORMAL;")
    connection.executescript(_SCHEMA)
    _local.path, _local.connection, _local.depth = wanted, connection, 0
    return connection


def close() -> None:
    """Close this thread's connection (tests call it when their store file goes away)."""
    if _local.connection is not None:
        _local.connection.close()
    _local.path, _local.connection, _local.depth = None, None, 0
    _local.after_commit = []


def on_commit(callback: Callable[[], None]) -> None:
    """Run `callback` once the current fake transaction commits (now, outside one): what a
    provider does after its own commit (sending a webhook event) never runs under its lock."""
    if _local.depth:
        _local.after_commit.append(callback)
    else:
        callback()


@contextmanager
def transaction() -> Iterator[sqlite3.Connection]:
    """One write transaction; nested blocks join the outermost one."""
    connection = _connection()
    if _local.depth:
        _local.depth += 1
        try:
            yield connection
        finally:
            _local.depth -= 1
        return
    connection.execute("BEGIN IMMEDIATE")
    _local.depth = 1
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        _local.after_commit = []
        raise
    else:
        connection.execute("COMMIT")
    finally:
        _local.depth = 0
    callbacks, _local.after_commit = _local.after_commit, []
    for callback in callbacks:
        callback()


def _resource(row: tuple[str, str, str, str, bytes]) -> Resource:
    provider, kind, resource_id, data, content = row
    return Resource(provider, kind, resource_id, json.loads(data), bytes(content))


def put(provider: str, kind: str, resource_id: str, data: dict[str, Any], content: bytes = b"") -> dict[str, Any]:
    """Create or replace a resource (a replaced one keeps its place in listing order)."""
    with transaction() as db:
        db.execute(
            "INSERT INTO resource (provider, kind, id, data, content) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (provider, id) DO UPDATE SET kind = excluded.kind, data = excluded.data, "
            "content = excluded.content",
            (provider, kind, resource_id, json.dumps(data), content),
        )
    return data


def get(provider: str, resource_id: str, kind: str | None = None) -> Resource | None:
    row = (
        _connection()
        .execute(
            "SELECT provider, kind, id, data, content FROM resource WHERE provider = ? AND id = ?",
            (provider, resource_id),
        )
        .fetchone()
    )
    found = _resource(row) if row else None
    if found is not None and kind is not None and found.kind != kind:
        return None
    return found


def _where(provider: str, kind: str, fields: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses, values = ["provider = ?", "kind = ?"], [provider, kind]
    for name, value in fields.items():
        if not _FIELD.match(name):
            raise ValueError(f"not a field name: {name!r}")
        clauses.append(f"json_extract(data, '$.{name}') = ?")
        values.append(value)
    return " AND ".join(clauses), values


def find(provider: str, kind: str, **fields: Any) -> list[Resource]:
    """Resources of a kind whose data has these top-level values, in the order they were created."""
    where, values = _where(provider, kind, fields)
    rows = _connection().execute(
        f"SELECT provider, kind, id, data, content FROM resource WHERE {where} ORDER BY seq",  # noqa: S608 - names checked
        values,
    )
    return [_resource(row) for row in rows.fetchall()]


def delete(provider: str, resource_id: str, kind: str | None = None) -> bool:
    with transaction() as db:
        if kind is None:
            cursor = db.execute("DELETE FROM resource WHERE provider = ? AND id = ?", (provider, resource_id))
        else:
            cursor = db.execute(
                "DELETE FROM resource WHERE provider = ? AND id = ? AND kind = ?", (provider, resource_id, kind)
            )
    return cursor.rowcount > 0


def delete_where(provider: str, kind: str, **fields: Any) -> int:
    where, values = _where(provider, kind, fields)
    with transaction() as db:
        cursor = db.execute(f"DELETE FROM resource WHERE {where}", values)  # noqa: S608 - names checked
    return cursor.rowcount


# --- failure injection --------------------------------------------------------
def inject_failure(
    provider: str,
    *,
    status: int,
    body: dict[str, Any],
    method: str = "",
    path_pattern: str = "",
    times: int | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """From now on, requests to `provider` matching `method` and `path_pattern` (a regex searched
    in the request path; both empty: every request) get this answer, `times` times or until cleared."""
    re.compile(path_pattern)
    with transaction() as db:
        db.execute(
            "INSERT INTO failure (provider, method, path, status, body, headers, remaining) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (provider, method.upper(), path_pattern, status, json.dumps(body), json.dumps(headers or {}), times),
        )


def clear_failures(provider: str) -> None:
    """The provider answers normally again."""
    with transaction() as db:
        db.execute("DELETE FROM failure WHERE provider = ?", (provider,))


def injected_failure(provider: str, method: str, request_path: str) -> InjectedFailure | None:
    """The answer an injected failure gives this request, if one matches (counting it down)."""
    if _connection().execute("SELECT 1 FROM failure WHERE provider = ? LIMIT 1", (provider,)).fetchone() is None:
        return None  # the usual case, without taking the write lock
    with transaction() as db:
        rows = db.execute(
            "SELECT seq, method, path, status, body, headers, remaining FROM failure WHERE provider = ? ORDER BY seq",
            (provider,),
        ).fetchall()
        for seq, wanted_method, pattern, status, body, headers, remaining in rows:
            if wanted_method and wanted_method != method.upper():
                continue
            if pattern and not re.search(pattern, request_path):
                continue
            if remaining is not None:
                if remaining <= 1:
                    db.execute("DELETE FROM failure WHERE seq = ?", (seq,))
                else:
                    db.execute("UPDATE failure SET remaining = remaining - 1 WHERE seq = ?", (seq,))
            return InjectedFailure(status, json.loads(body), json.loads(headers))
    return None
