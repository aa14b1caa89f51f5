"""Benchmark: the inbound-SMS webhook under a fixed request rate, next to a trivial Django view,
and the calls log page with 100,000 rows for one user.

    .venv/bin/python bench/webhooks.py [--rate 200] [--seconds 20] [--rows 100000]
    .venv/bin/python bench/webhooks.py --processes 2 --database postgres --ramp 100,150,200,250,300

Starts daphne (the Procfile's web server) on a free 127.0.0.1 port with a
throw-away SQLite database in a temporary NUMFREE_DATA_DIR, sends correctly
signed webhooks open-loop at the given rate (each one a new MessageSid, so
every request logs a message and writes an encrypted outbox row), then the
same rate to a view that returns "ok". Prints p50/p99 latency and achieved
requests/s. Prints figures; it is not a pass/fail test.

With `--processes 2 --database postgres` it runs production-like: DEBUG=0 with
every variable an operator sets (docs/deploy.md; the providers are the local
fakes, nothing leaves the machine), a fresh PostgreSQL database (nf_scale2_webhooks
unless --pg-database), the Procfile's `web:` line started N times through
deploy/procfile-run on ports 18300+, requests spread round-robin over them as a
proxy would (with X-Forwarded-Proto/For). `--ramp` raises the offered rate step
by step and prints, per step, latency, errors and the CPU used by the web
processes, by the whole machine and by this client, then the highest rate held
at p99 < 50 ms. The client shares the machine's cores with the servers.
`--worker` also runs the Procfile's `worker:` (draining the outbox to a dummy mail
backend), as production does; `--profile PREFIX` records py-spy stacks of each web
process at every step.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
MAX_SECONDS = 60  # hard bound on each load phase
MAX_RATE = 1000
P99_GOAL_MS = 50.0
CLK = os.sysconf("SC_CLK_TCK")
WEB_PORTS = range(18300, 18400)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


async def _load(url: str | list[str], rate: int, seconds: int, make_request) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Open loop: request i is sent at start + i/rate whatever the answers so far; with several
    URLs (one per web process) requests go round-robin, as a proxy would spread them."""
    import aiohttp

    urls = [url] if isinstance(url, str) else url

    total = rate * seconds
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=256)
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one(index: int, due: float) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body, headers = make_request(index)
            started = time.perf_counter()
            try:
                async with session.post(urls[index % len(urls)], data=body, headers=headers) as response:
                    await response.read()
                    if response.status >= 300:
                        errors += 1
                        return
            except (aiohttp.ClientError, TimeoutError):
                errors += 1
                return
            latencies.append((time.perf_counter() - started) * 1000)

        start = time.perf_counter() + 0.2
        began = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(one(i, start + i / rate) for i in range(total))), timeout=seconds + MAX_SECONDS
        )
        elapsed = time.perf_counter() - began
    return {
        "sent": total,
        "ok": len(latencies),
        "errors": errors,
        "p50": _percentile(latencies, 0.50),
        "p99": _percentile(latencies, 0.99),
        "rps": len(latencies) / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--processes", type=int, default=1, help="web processes (production-like mode when > 1)")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-database", default="nf_scale2_webhooks", help="dropped and created for the run")
    parser.add_argument("--ramp", default="", help="offered rates, e.g. 100,150,200,250,300 (production-like)")
    parser.add_argument("--worker", action="store_true", help="also run the Procfile's worker: line")
    parser.add_argument("--profile", metavar="PREFIX", help="py-spy raw stacks of each web process per step")
    parser.add_argument("--db-pool", action="store_true", help="Django's PostgreSQL connection pool (bench_settings)")
    args = parser.parse_args()
    rate, seconds = min(args.rate, MAX_RATE), min(args.seconds, MAX_SECONDS)
    if args.processes > 1 or args.database == "postgres" or args.ramp:
        sys.path.insert(0, str(ROOT))
        from bench.webhooks_cluster import run_production_like

        run_production_like(args)
        return

    data_dir = tempfile.mkdtemp(prefix="numfree-bench-")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "NUMFREE_DATA_DIR": data_dir,
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "NUMFREE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    sys.path.insert(0, str(ROOT))
    from bench.webhooks_cluster import seed_subscriber

    number = seed_subscriber(env)
    from telephony import twilio_api

    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/daphne"),
            "-e",
            f"tcp:port={port}:interface=127.0.0.1:backlog=1024",
            "--access-log",
            "/dev/null",
            "numfree.asgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        sms_url = f"http://127.0.0.1:{port}/webhooks/twilio/sms/"

        def sms_request(index: int) -> tuple[bytes, dict[str, str]]:
            sid = "SM" + uuid.uuid4().hex
            params = {
                "MessageSid": sid,
                "SmsSid": sid,
                "AccountSid": twilio_api.account_sid(),
                "From": "+14155550100",
                "To": number,
                "Body": f"benchmark message {index}",
                "NumMedia": "0",
                "NumSegments": "1",
                "SmsStatus": "received",
                "ApiVersion": "2010-04-01",
                "FromCity": "SAN FRANCISCO",
                "FromZip": "94105",
            }
            signature = twilio_api.signature_for(sms_url, params)
            return urlencode(params).encode(), {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
            }

        def trivial_request(index: int) -> tuple[bytes, dict[str, str]]:
            return b"", {}

        asyncio.run(_load(f"http://127.0.0.1:{port}/bench/trivial/", 20, 1, trivial_request))  # warm up
        trivial = asyncio.run(_load(f"http://127.0.0.1:{port}/bench/trivial/", rate, seconds, trivial_request))
        sms = asyncio.run(_load(sms_url, rate, seconds, sms_request))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)

    print(f"daphne, 1 process, SQLite WAL; {rate} req/s offered for {seconds} s")
    for name, result in (("trivial Django view", trivial), ("inbound SMS webhook", sms)):
        print(
            f"  {name:22s} p50 {result['p50']:7.1f} ms  p99 {result['p99']:7.1f} ms  "
            f"{result['rps']:6.1f} req/s  ({result['ok']}/{result['sent']} ok, {result['errors']} errors)"
        )
    from telephony.models import PhoneNumber

    _logs_page(PhoneNumber.objects.get(e164=number).user, args.rows)


def _logs_page(user, rows: int) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from telephony.models import CallLog, SmsLog

    now = timezone.now()
    batch = 5000
    for start in range(0, rows, batch):
        CallLog.objects.bulk_create(
            CallLog(
                user=user,
                kind="phone",
                direction="in" if i % 3 else "out",
                external_id=f"CA{i:032x}",
                peer_number=f"+1415555{i % 10000:04d}",
                started_at=now - timedelta(seconds=i * 30),
                missed=i % 5 == 0,
                status="completed",
            )
            for i in range(start, min(rows, start + batch))
        )
        SmsLog.objects.bulk_create(
            SmsLog(
                user=user,
                direction="in",
                message_sid=f"SX{i:032x}",
                peer_number=f"+1415555{i % 10000:04d}",
                our_number="+14155551000",
                created_at=now - timedelta(seconds=i * 30),
                status="received",
            )
            for i in range(start, min(rows, start + batch))
        )
    setup_test_environment()  # lets the client see response.context (the next-page cursor)
    client = Client()
    client.force_login(user)
    scenarios = {
        "calls, first page": "/dashboard/calls/",
        "calls, filtered by number": "/dashboard/calls/?number=%2B14155550042",
        "calls, missed only": "/dashboard/calls/?status=missed",
        "messages, first page": "/dashboard/messages/",
    }
    print(
        f"logs pages with {rows:,} calls and {rows:,} texts for one user (in-process Django test client, 30 requests each)"
    )
    for name, path in scenarios.items():
        timings = []
        for _ in range(30):
            started = time.perf_counter()
            response = client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        print(f"  {name:28s} p50 {statistics.median(timings):6.1f} ms  p95 {_percentile(timings, 0.95):6.1f} ms")
    # Deep pages: follow the cursor 40 pages in (2,000 rows).
    timings = []
    path = "/dashboard/calls/"
    for _ in range(40):
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        path = "/dashboard/calls/?" + response.context["next_query"]
    print(
        f"  {'calls, pages 1-40 (cursor)':28s} p50 {statistics.median(timings):6.1f} ms  p95 {_percentile(timings, 0.95):6.1f} ms"
    )


if __name__ == "__main__":
    main()
