"""Time the retention purge of 1,000,000 expired call log rows, and a dashboard page's p95 while it runs.

    .venv/bin/python bench/purge.py                      # SQLite (a fresh file under /tmp)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_purge .venv/bin/python bench/purge.py
    .venv/bin/python bench/purge.py --rows 200000        # smaller run
    .venv/bin/python bench/purge.py --batch-size 5000 --pause 0.02   # other purge settings

Prints the seconds per million rows and the dashboard page's p50/p95 before
and during the purge (a second thread of the same process requests it through
the whole Django stack, so the two also share the interpreter), with the
machine's load average: other work on the machine slows both.
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
    parser.add_argument("--batch-size", type=int, help="rows per purge transaction (NUMFREE_PURGE_BATCH_SIZE)")
    parser.add_argument("--pause", type=float, help="seconds between purge batches (NUMFREE_PURGE_PAUSE_SECONDS)")
    args = parser.parse_args()
    if args.batch_size:
        os.environ["NUMFREE_PURGE_BATCH_SIZE"] = str(args.batch_size)
    if args.pause is not None:
        os.environ["NUMFREE_PURGE_PAUSE_SECONDS"] = str(args.pause)

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
    time.sleep(2.0)  # a baseline before the purge begins
    baseline = len(timings)
    before = timings[3:baseline]  # after the first requests (template loading)
    started = time.perf_counter()
    counts = purge_expired()
    elapsed = time.perf_counter() - started
    stop.set()
    browser.join(timeout=30)
    during = timings[baseline:] or timings
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(
        f"{engine}: batches of {settings.PRIVACY_PURGE_BATCH_SIZE} rows, "
        f"{settings.PRIVACY_PURGE_PAUSE_SECONDS} s apart; load average {load} on {os.cpu_count()} cores"
    )
    print(f"{engine}: purged {counts} in {elapsed:.1f} s = {elapsed * 1_000_000 / max(args.rows, 1):.1f} s per million")
    for label, sample in (("before", before), ("during", during)):
        if sample:
            print(
                f"{engine}: {args.page} {label} the purge: {len(sample)} requests, p50 "
                f"{statistics.median(sample) * 1000:.0f} ms, p95 {_p95(sample) * 1000:.0f} ms, max {max(sample) * 1000:.0f} ms"
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
