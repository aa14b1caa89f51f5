"""Time the retention purge of 1,000,000 expired call log rows, and a dashboard page's p95 while it runs.

    .venv/bin/python bench/purge.py                      # SQLite (a fresh file under /tmp)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_purge .venv/bin/python bench/purge.py
    .venv/bin/python bench/purge.py --rows 200000        # smaller run

Prints the seconds per million rows and the dashboard page's p50/p95 during
the purge (a second thread requests it through the whole Django stack).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--page", default="/dashboard/")
    args = parser.parse_args()

    if "DATABASE_URL" not in os.environ:
        path = Path(tempfile.mkdtemp(prefix="numfree-bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numfree.settings")
    os.environ["NUMFREE_TESTING"] = "0"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from privacy.retention import purge_expired

    engine = "PostgreSQL" if settings.DATABASE_IS_POSTGRES else "SQLite"
    if settings.DATABASE_IS_POSTGRES:
        _recreate_postgres(settings.DATABASES["default"])
    call_command("migrate", verbosity=0)
    user = User.objects.filter(email="bench@example.com").first() or User.objects.create_user(
        "bench@example.com", "bench password 123", email_verified=True
    )
    old = timezone.now() - timedelta(days=settings.RETENTION_DAYS + 5)
    started = time.perf_counter()
    _insert_rows(connection, user.pk, args.rows, old)
    print(f"{engine}: inserted {args.rows:,} expired call log rows in {time.perf_counter() - started:.1f} s")

    timings: list[float] = []
    stop = threading.Event()

    def browse() -> None:
        client = Client()
        client.force_login(user)
        while not stop.is_set():
            begin = time.perf_counter()
            response = client.get(args.page, follow=True)
            timings.append(time.perf_counter() - begin)
            assert response.status_code == 200, response.status_code
        connections.close_all()

    browser = threading.Thread(target=browse, daemon=True)
    browser.start()
    time.sleep(1.0)  # a baseline before the purge begins
    baseline = len(timings)
    started = time.perf_counter()
    counts = purge_expired()
    elapsed = time.perf_counter() - started
    stop.set()
    browser.join(timeout=30)
    during = timings[baseline:] or timings
    print(f"{engine}: purged {counts} in {elapsed:.1f} s = {elapsed * 1_000_000 / max(args.rows, 1):.1f} s per million")
    print(
        f"{engine}: {args.page} during the purge: {len(during)} requests, "
        f"p50 {statistics.median(during) * 1000:.0f} ms, p95 {_p95(during) * 1000:.0f} ms, max {max(during) * 1000:.0f} ms"
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _insert_rows(connection, user_id: int, rows: int, when) -> None:  # type: ignore[no-untyped-def]
    columns = "user_id, kind, direction, external_id, peer_number, started_at, end_reason, missed, status, blocked"
    placeholders = ", ".join(["%s"] * 10)
    chunk = 10_000
    connection.ensure_connection()
    raw = connection.connection  # the driver's own executemany: the ORM's per-row overhead would dominate
    placeholders_raw = ", ".join(["?"] * 10)
    with _closing(raw.cursor()) as cursor:
        for start in range(0, rows, chunk):
            batch = [
                (
                    user_id,
                    "phone",
                    "in",
                    f"CAbench{n:012d}",
                    "+15550001111",
                    when,
                    "completed",
                    False,
                    "completed",
                    False,
                )
                for n in range(start, min(rows, start + chunk))
            ]
            marks = placeholders_raw if connection.vendor == "sqlite" else placeholders
            cursor.executemany(f"INSERT INTO telephony_calllog ({columns}) VALUES ({marks})", batch)
            raw.commit()


def _closing(cursor):  # type: ignore[no-untyped-def]
    from contextlib import closing

    return closing(cursor)


def _recreate_postgres(db: dict) -> None:
    import psycopg

    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}"')
        conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


if __name__ == "__main__":
    main()
