"""How fast workers drain the outbox: N no-op jobs queued, then drained; prints jobs per second.

    .venv/bin/python bench/outbox_drain.py --db sqlite --jobs 1000
    .venv/bin/python bench/outbox_drain.py --db postgres --jobs 1000 --workers 2

SQLite runs on a throw-away file; PostgreSQL on the database `bench_outbox`
(created if missing) at BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432.
Each worker is a thread with its own connection, running the real worker loop.
"worker CPU" is this process's CPU time per job (PostgreSQL's own CPU is not in it);
on a shared machine it varies less than jobs/s, which is printed with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _configure(db: str) -> None:
    if db == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='numfree-bench-')}/bench.sqlite3"
        return
    import psycopg

    server = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'bench_outbox'").fetchone():
            conn.execute("CREATE DATABASE bench_outbox")
    os.environ["DATABASE_URL"] = f"{server}/bench_outbox"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    _configure(args.db)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numfree.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from numfree.outbox import enqueue, job
    from numfree.outbox.models import Job
    from numfree.outbox.worker import Worker

    call_command("migrate", verbosity=0)
    job("bench.noop")(lambda payload: None)
    rates, cpu_per_job = [], []
    for _ in range(args.runs):
        Job.objects.all().delete()
        with transaction.atomic():
            for n in range(args.jobs):
                enqueue("bench.noop", {"n": n})
        counts: list[int] = []

        def drain(name: str, counts: list[int] = counts) -> None:
            try:
                counts.append(Worker(name=name).run(burst=True, periodic=False))
            finally:
                connection.close()

        threads = [threading.Thread(target=drain, args=(f"bench-{i}",)) for i in range(args.workers)]
        started, cpu_started = time.perf_counter(), time.process_time()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu_per_job.append((time.process_time() - cpu_started) / args.jobs * 1e6)
        assert sum(counts) == args.jobs and not Job.objects.exists(), (counts, Job.objects.count())
        rates.append(args.jobs / elapsed)
    print(
        f"{args.db}, {args.workers} worker(s), {args.jobs} no-op jobs: "
        f"median {statistics.median(rates):.0f} jobs/s (runs: {', '.join(f'{r:.0f}' for r in rates)}), "
        f"worker CPU {statistics.median(cpu_per_job):.0f} us per job; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
