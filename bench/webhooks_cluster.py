"""bench/webhooks.py's production-like mode: signed inbound-SMS webhooks against N web processes
on PostgreSQL, with a rising rate, and the highest rate held at p99 < 50 ms.

Run through bench/webhooks.py (`--processes 2 --database postgres --ramp ...`); see its docstring.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.webhooks import CLK, P99_GOAL_MS, ROOT, WEB_PORTS, _load

HOST = "bench.example"
PUBLIC_URL = f"https://{HOST}"
REDIS_PORTS = range(56400, 56410)
MAX_STEPS = 12


def _port_in(ports: range) -> int:
    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {ports.start}-{ports.stop - 1}")


def _wait_port(port: int, proc: subprocess.Popen[bytes], limit_s: float = 60) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


def production_env(data_dir: str, database_url: str, redis_url: str) -> dict[str, str]:
    """What an operator sets (docs/deploy.md), with the providers' local fakes: nothing leaves the machine."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + uuid.uuid4().hex + uuid.uuid4().hex,
        "ALLOWED_HOSTS": HOST,
        "NUMFREE_PUBLIC_URL": PUBLIC_URL,
        "NUMFREE_DATA_DIR": data_dir,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_HOST_USER": "numfree",
        "EMAIL_HOST_PASSWORD": "not-used",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "NUMFREE_TRUSTED_PROXY_COUNT": "1",
        "NUMFREE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "f" * 32,
        "STRIPE_SECRET_KEY": "sk_live_" + "0" * 24,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "0" * 32,
        "STRIPE_PRICE_MONTHLY": "price_monthly",
        "STRIPE_PRICE_YEARLY": "price_yearly",
        "NUMFREE_EXTENSION_IDS": "a" * 32,
        "NUMFREE_FAKE_PROVIDERS": "1",
        "LOG_LEVEL": "WARNING",
    }


def _recreate_database(name: str) -> str:
    import psycopg

    if not name.startswith("nf_scale2"):
        raise SystemExit("--pg-database must start with nf_scale2 (the bench drops it)")
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def _machine_busy() -> tuple[float, float]:
    """(busy, total) seconds over all cores since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK, sum(values) / CLK


def _backends_cpu(database: str) -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving `database` (a backend that ends within a
    step is missed: exact with --db-pool, a lower bound without)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if f" {database} " in (entry / "cmdline").read_text().replace("\0", " "):
                found[int(entry.name)] = _cpu(int(entry.name))
        except OSError:
            continue
    return found


def _client_cpu() -> float:
    times = os.times()
    return times.user + times.system


def seed_subscriber(env: dict[str, str]) -> str:
    """Migrate, then one subscribed user with a number; returns the number."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from accounts.models import User
    from billing.models import BillingAccount
    from telephony import twilio_api
    from telephony.models import PhoneNumber

    user = User.objects.create_user(email="bench@example.com", password=uuid.uuid4().hex, email_verified=True)
    BillingAccount.objects.create(user=user, status="active", plan="monthly", had_service=True)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country="US")
    return bought.e164


def _sms_request(number: str):  # type: ignore[no-untyped-def]
    from telephony import twilio_api

    sms_url = f"{PUBLIC_URL}/webhooks/twilio/sms/"

    def make(index: int) -> tuple[bytes, dict[str, str]]:
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
        return urlencode(params).encode(), {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_api.signature_for(sms_url, params),
            **_PROXY_HEADERS,
        }

    return make


_PROXY_HEADERS = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def _trivial_request(index: int) -> tuple[bytes, dict[str, str]]:
    return b"", dict(_PROXY_HEADERS)


def _step(
    urls: list[str], rate: int, seconds: int, make: Any, webs: list[subprocess.Popen[bytes]], database: str
) -> dict[str, float]:
    web0, (busy0, total0), client0 = sum(_cpu(w.pid) for w in webs), _machine_busy(), _client_cpu()
    pg0 = _backends_cpu(database)
    result = asyncio.run(_load(urls, rate, seconds, make))
    web1, (busy1, total1), client1 = sum(_cpu(w.pid) for w in webs), _machine_busy(), _client_cpu()
    pg1 = _backends_cpu(database)
    pg = sum(cpu - pg0.get(pid, 0.0) for pid, cpu in pg1.items())
    wall = max(1e-9, (total1 - total0) / (os.cpu_count() or 1))
    result.update(
        pg_ms=pg * 1000 / max(1, result["ok"]),
        web_ms=(web1 - web0) * 1000 / max(1, result["ok"]),
        web_pct=100 * (web1 - web0) / wall,
        machine_pct=100 * (busy1 - busy0) / (total1 - total0 or 1),
        client_pct=100 * (client1 - client0) / wall,
    )
    return result


def _show(name: str, rate: int, r: dict[str, float]) -> None:
    print(
        f"  {name:8s} {rate:4d} req/s offered: p50 {r['p50']:6.1f} ms  p99 {r['p99']:7.1f} ms  "
        f"{r['rps']:6.1f} req/s done ({r['ok']}/{r['sent']} ok, {r['errors']} errors); "
        f"web {r['web_ms']:.2f} ms CPU/request ({r['web_pct']:.0f}% of a core), PostgreSQL >= {r['pg_ms']:.2f} ms, "
        f"client {r['client_pct']:.0f}% of a core, machine {r['machine_pct']:.0f}% busy",
        flush=True,
    )


def run_production_like(args: argparse.Namespace) -> None:
    rates = [min(int(r), 1000) for r in (args.ramp or str(args.rate)).split(",") if r.strip()][:MAX_STEPS]
    seconds = min(args.seconds, 60)
    data_dir = tempfile.mkdtemp(prefix="numfree-bench-")
    procs: list[subprocess.Popen[bytes]] = []
    profiles: list[subprocess.Popen[bytes]] = []
    redis_port = _port_in(REDIS_PORTS)
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_port(redis_port, redis)
        database = args.pg_database if args.database == "postgres" else "-"
        if args.database == "postgres":
            database_url = _recreate_database(args.pg_database)
        else:
            database_url = f"sqlite:///{data_dir}/numfree.sqlite3"
        env = production_env(data_dir, database_url, f"redis://127.0.0.1:{redis_port}/0")
        if args.db_pool:
            env["NUMFREE_BENCH_DB_POOL"] = "1"
        number = seed_subscriber(env)
        webs: list[subprocess.Popen[bytes]] = []
        urls = []
        for n in range(max(1, min(args.processes, 8))):
            port = _port_in(range(WEB_PORTS.start + 10 * n, WEB_PORTS.stop))
            log = open(f"/tmp/numfree-bench-webhooks-web{n}.log", "wb")  # noqa: SIM115
            web = subprocess.Popen(
                [str(ROOT / "deploy/procfile-run"), "web"],
                env={**env, "PORT": str(port), "HOST": "127.0.0.1"},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            procs.append(web)
            _wait_port(port, web)
            webs.append(web)
            urls.append(f"http://127.0.0.1:{port}")
        if args.worker:
            log = open("/tmp/numfree-bench-webhooks-worker.log", "wb")  # noqa: SIM115
            procs.append(
                subprocess.Popen(
                    [str(ROOT / "deploy/procfile-run"), "worker"],
                    env=env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        sms_urls = [f"{u}/webhooks/twilio/sms/" for u in urls]
        trivial_urls = [f"{u}/bench/trivial/" for u in urls]
        sms = _sms_request(number)
        asyncio.run(_load(trivial_urls, 20, 1, _trivial_request))  # warm up: imports, first connections
        asyncio.run(_load(sms_urls, 20, 1, sms))
        print(
            f"daphne (Procfile web:), {len(webs)} process(es), {args.database}, DEBUG=0, "
            f"{'with' if args.worker else 'no'} worker, {'a connection pool' if args.db_pool else 'CONN_MAX_AGE=0'}; {seconds} s per step, {os.cpu_count()} cores shared "
            f"with this client; load average {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        held = 0
        for rate in rates:
            if args.profile:
                spy = str(Path(sys.executable).parent / "py-spy")
                profiles = [
                    subprocess.Popen(
                        [spy, "record", "--pid", str(w.pid), "--format", "raw", "--rate", "200", "--nonblocking",
                         "--gil", "-o", f"{args.profile}.{rate}.web{n}.txt"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )
                    for n, w in enumerate(webs)
                ]  # fmt: skip
                time.sleep(1)
            result = _step(sms_urls, rate, seconds, sms, webs, database)
            for proc in profiles:
                proc.send_signal(2)
                proc.wait(30)
            profiles = []
            _show("sms", rate, result)
            if result["p99"] < P99_GOAL_MS and result["errors"] == 0 and result["ok"] == result["sent"]:
                held = rate
            else:
                break
        reference = held or rates[0]
        _show("trivial", reference, _step(trivial_urls, reference, seconds, _trivial_request, webs, database))
        print(f"highest rate held at p99 < {P99_GOAL_MS:.0f} ms with no errors: {held} req/s")
        print(f"load average {os.getloadavg()[0]:.2f} at the end")
    finally:
        for proc in [*profiles, *procs, redis]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*profiles, *procs, redis]:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
