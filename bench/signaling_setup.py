"""Signaling bench, the setting: servers (daphne, uvicorn, the plain relay), their database, their process figures.

Part of bench/signaling.py (which says how to run it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def procfile_ping_s() -> float:
    """The web line's --ping-interval: how often an idle socket is pinged to see it is alive."""
    web = next(line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("web:"))
    words = web.split()
    return float(words[words.index("--ping-interval") + 1])


DAPHNE = str(Path(PY).parent / "daphne")
ORIGIN = "http://127.0.0.1:8000"
CLK = os.sysconf("SC_CLK_TCK")
CANDIDATE = "candidate:842163049 1 udp 1677729535 127.0.0.2 56143 typ srflx raddr 0.0.0.0 rport 0 generation 0"
SDP_3K = "v=0\r\n" + "a=x-bench:" + "y" * 3000 + "\r\n"
MAX_SOCKETS = 10_000
PACED_RATE = [2000.0]
MIN_BURST_FRAMES = 10_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def process_cpu() -> float:
    times = os.times()
    return times.user + times.system


async def settle(pid: int, database: str, answered_rows: int, limit_s: float = 120) -> None:
    """Wait until the server has written the call log of the set-up (one answered row per
    socket) and is idle, so the burst measures relaying only."""
    import sqlite3

    deadline = time.monotonic() + limit_s
    while database and time.monotonic() < deadline:
        with contextlib.closing(sqlite3.connect(database, timeout=5)) as db:
            (done,) = db.execute("select count(*) from telephony_calllog where answered_at is not null").fetchone()
        if done >= answered_rows:
            break
        await asyncio.sleep(0.5)
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if cpu_seconds(pid) - before < 0.05:
            return


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(400):
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


# --- the plain reference relay -------------------------------------------
async def plain_relay_server(port: int) -> None:
    """A fair reference: like any real relay it parses each frame as JSON and routes on a field
    (`call_id`, to the other party of that call), then forwards the text."""
    import websockets

    sockets: dict[str, object] = {}
    calls: dict[str, dict[str, str]] = {}  # call id -> {party: the other party}

    async def handler(ws):  # type: ignore[no-untyped-def]
        hello = json.loads(await ws.recv())
        me, peer = hello["me"], hello["peer"]
        sockets[me] = ws
        calls.setdefault(hello["call_id"], {})[me] = peer
        await ws.send('{"type":"ok"}')
        try:
            async for message in ws:
                parties = calls.get(json.loads(message).get("call_id"))
                target = sockets.get(parties.get(me, "")) if parties else None
                if target is not None:
                    await target.send(message)
        finally:
            sockets.pop(me, None)
            parties = calls.get(hello["call_id"])
            if parties is not None:
                parties.pop(me, None)
                if not parties:
                    calls.pop(hello["call_id"], None)

    # No compression: daphne does not negotiate it either, so both relays move the same bytes.
    # The same keepalive as the Procfile's daphne (websockets' default is a ping every 20 s,
    # daphne's line says 10): both find a dead peer as fast, and pay for it alike.
    ping_s = procfile_ping_s()
    async with websockets.serve(
        handler, "127.0.0.1", port, max_size=65536, backlog=1024, compression=None,
        ping_interval=ping_s, ping_timeout=ping_s,
    ):  # fmt: skip
        await asyncio.Future()


def bench_env(tmp: str) -> dict[str, str]:
    env = {
        **os.environ,
        "NUMFREE_DATA_DIR": tmp,
        "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
        "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key-0123456789",
        "NUMFREE_SIGNALING_RATE_PER_SECOND": "100000",
        "NUMFREE_SIGNALING_RATE_BURST": "100000",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "numfree.settings",
    }
    env.pop("REDIS_URL", None)
    return env


def raise_file_limit() -> int:
    """Soft limit on open files up to the hard one (each socket is a file on both ends); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


class Server:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, people: list[tuple[str, str, str]], db: str) -> None:
        self.proc, self.pid, self.url, self.people, self.db = proc, proc.pid, url, people, db


@contextlib.asynccontextmanager
async def running_server(kind: str, sockets: int, opts: argparse.Namespace) -> AsyncIterator[Server]:
    """NumFree (daphne or uvicorn, `opts.server`) on a fresh SQLite database with `sockets` users
    in pairs of contacts, or the plain relay; pinned to CPU 0 when `opts.pin`."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = bench_env(tmp)
        people: list[tuple[str, str, str]] = []
        if kind == "numfree":
            people = prepare_database(env, sockets // 2)
            cmd = server_command(opts.server, port)
            if getattr(opts, "trace_gc", False):  # report garbage-collector pauses over 10 ms in the server's log
                cmd = [PY, "-c", GC_TRACE, *cmd]
        else:
            cmd = [PY, str(REPO / "bench" / "signaling.py"), "--plain-server", str(port)]
        with open(f"/tmp/numfree-bench-{kind}.log", "wb") as server_log:
            server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=server_log, stderr=subprocess.STDOUT)
        if opts.pin:
            os.sched_setaffinity(server.pid, {0})
        try:
            wait_port(port, server)
            await asyncio.sleep(0.5)
            url = f"ws://127.0.0.1:{port}/ws/signaling/" if kind == "numfree" else f"ws://127.0.0.1:{port}/"
            yield Server(server, url, people, f"{tmp}/bench.sqlite3" if kind == "numfree" else "")
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


# --- database and tokens for the NumFree server ------------------------------
def prepare_database(env: dict[str, str], pairs: int) -> list[tuple[str, str, str]]:
    """Users in pairs of mutual contacts; returns (access token, email, peer email) per socket."""
    subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True)
    script = f"""
import json, django
django.setup()
from accounts.email_identity import email_key
from accounts.models import User
from accounts.tokens import issue_pair
from signaling.models import Contact
users = User.objects.bulk_create([User(email=f"u{{i}}@bench.example", email_key=email_key(f"u{{i}}@bench.example"), email_verified=True, password="!") for i in range({pairs * 2})])
users = list(User.objects.order_by("id"))
Contact.objects.bulk_create([Contact(requester=users[i], addressee=users[i + 1], addressee_email=users[i + 1].email, requester_stance="asked", addressee_stance="asked") for i in range(0, len(users), 2)])
out = []
for i, user in enumerate(users):
    peer = users[i + 1] if i % 2 == 0 else users[i - 1]
    out.append([issue_pair(user).access, user.email, peer.email])
print(json.dumps(out))
"""
    result = subprocess.run([PY, "-c", script], cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return [tuple(x) for x in json.loads(result.stdout.strip().splitlines()[-1])]


GC_TRACE = """
import gc, sys, time
_t = [0.0]
def _trace(phase, info):
    if phase == "start":
        _t[0] = time.perf_counter()
    elif (ms := (time.perf_counter() - _t[0]) * 1000) > 10:
        print(f"bench: gc generation {info['generation']} took {ms:.0f} ms", file=sys.stderr, flush=True)
gc.callbacks.append(_trace)
sys.argv = sys.argv[1:]
sys.argv[0] = sys.argv[0]
import runpy
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def server_command(server: str, port: int) -> list[str]:
    """The Procfile's web line (daphne), or uvicorn with the same limits."""
    if server == "uvicorn":
        return [
            str(Path(PY).parent / "uvicorn"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backlog",
            "1024",
            "--ws-max-size",
            "65536",
            "--ws-per-message-deflate",
            "false",
            "--no-access-log",
            "--log-level",
            "warning",
            "numfree.asgi:application",
        ]
    return [
        DAPHNE,
        "-e",
        f"tcp:port={port}:interface=127.0.0.1:backlog=1024",
        "--websocket-max-message-size",
        "65536",
        "--websocket_timeout",
        "-1",
        "--access-log",
        "/dev/null",
        "numfree.asgi:application",
    ]
