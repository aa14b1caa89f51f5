"""Time the privacy center for a user with 50,000 call log entries, against a plain page in the same run.

    .venv/bin/python bench/privacy_center.py                     # SQLite (a fresh file under /tmp)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_center .venv/bin/python bench/privacy_center.py
    .venv/bin/python bench/privacy_center.py --calls 2000 --sessions 200

Seeds one user's call log and page views, and other users' signed-in
sessions, then requests /privacy/center/ and the policy page /privacy/ (the
reference: a plain page through the same middleware) through the whole
Django stack, alternately, and prints each one's median time and HTML size
and their ratio. The ratio is what to compare between machines and runs;
the load average says how busy the machine was.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from contextlib import closing
from datetime import timedelta
from importlib import import_module
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--calls", type=int, default=50_000, help="call log entries of the user (and as many page views)"
    )
    parser.add_argument("--sessions", type=int, default=1_000, help="other users' signed-in sessions")
    parser.add_argument("--runs", type=int, default=7, help="requests of each page (median)")
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
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User

    engine = "PostgreSQL" if settings.DATABASE_IS_POSTGRES else "SQLite"
    if settings.DATABASE_IS_POSTGRES:
        _recreate_postgres(settings.DATABASES["default"])
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench@example.com", "bench password 123", email_verified=True)
    others = [  # no password: nothing to hash
        User.objects.create_user(f"other{n}@example.com", None, email_verified=True)
        for n in range(min(args.sessions, 100))
    ]
    started = time.perf_counter()
    _insert_logs(connection, user.pk, args.calls, timezone.now() - timedelta(days=1))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for n in range(args.sessions):
        session = store()
        session["_auth_user_id"] = str(others[n % len(others)].pk)
        session.save()
    print(
        f"{engine}: {args.calls:,} call log entries and page views, {args.sessions:,} other sessions "
        f"in {time.perf_counter() - started:.1f} s (SESSION_ENGINE {settings.SESSION_ENGINE})"
    )

    client = Client()
    client.force_login(user)
    pages = {"/privacy/center/": [], "/privacy/": []}
    sizes = {}
    for run in range(args.runs + 1):
        for page, timings in pages.items():
            begin = time.perf_counter()
            response = client.get(page)
            elapsed = time.perf_counter() - begin
            assert response.status_code == 200, (page, response.status_code)
            sizes[page] = len(response.content)
            if run:  # the first of each loads templates
                timings.append(elapsed)
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    print(f"{engine}: load average {load} on {os.cpu_count()} cores; median of {args.runs} requests each")
    medians = {page: statistics.median(timings) for page, timings in pages.items()}
    for page, median in medians.items():
        print(f"{engine}: {page:<18} {median * 1000:8.1f} ms  {sizes[page]:>12,} bytes of HTML")
    ratio = medians["/privacy/center/"] / medians["/privacy/"]
    print(f"{engine}: the center takes {ratio:.1f}x the policy page's time")


def _insert_logs(connection, user_id: int, rows: int, when) -> None:  # type: ignore[no-untyped-def]
    calls = "user_id, kind, direction, external_id, peer_number, started_at, end_reason, missed, status, blocked"
    views = "user_id, ip, browser, path, viewed_at"
    connection.ensure_connection()
    raw = connection.connection  # the driver's own executemany: the ORM's per-row overhead would dominate
    mark = "?" if connection.vendor == "sqlite" else "%s"
    with closing(raw.cursor()) as cursor:
        for start in range(0, rows, 10_000):
            numbers = range(start, min(rows, start + 10_000))
            cursor.executemany(
                f"INSERT INTO telephony_calllog ({calls}) VALUES ({', '.join([mark] * 10)})",
                [
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
                    for n in numbers
                ],
            )
            cursor.executemany(
                f"INSERT INTO privacy_pageview ({views}) VALUES ({', '.join([mark] * 5)})",
                [(user_id, "198.51.100.7", "Firefox", "/dashboard/calls/", when) for _ in numbers],
            )
            raw.commit()


def _recreate_postgres(db: dict) -> None:
    import psycopg

    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}"')
        conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


if __name__ == "__main__":
    main()
