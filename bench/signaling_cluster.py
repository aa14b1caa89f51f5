"""Signaling across processes and at 10,000 sockets: server CPU per relayed frame, p99, frames lost.

Two figures of issue #14, each next to its reference measured in the same run:

* **Two processes over Redis** (default): the Procfile's `web:` line twice, one
  private redis-server (port 56400-56409, started here so its CPU is read by
  pid and the shared Redis is untouched). Sockets are split so that half the
  calls, and so half the frames, cross processes. CPU per frame counts both
  web processes and redis-server; the reference is one web process with the
  same Redis, all sockets on it.
* **10,000 sockets in one process** (`--scale 1000,10000`): one web process
  with the same Redis, CPU per frame at each size; the ratio of the largest
  to the smallest is printed. The file limit is raised to the hard limit here
  (and so for the servers started from here); deployments: docs/deploy.md.

    .venv/bin/python bench/signaling_cluster.py                      # 1 vs 2 processes, 1,000 sockets
    .venv/bin/python bench/signaling_cluster.py --scale 1000,10000   # 1,000 vs 10,000 sockets, one process
    .venv/bin/python bench/signaling_cluster.py --profile /tmp/prof  # py-spy of each web process and of the run

Frames are the ~200 B candidate frames and ~3 KB SDP frames of bench/signaling.py
(its client code is reused). On 2+ cores the servers and Redis are pinned to
CPU 0 and this client to CPU 1 (`--no-pin` to share).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import websockets

from bench.signaling_load import Pair, relay
from bench.signaling_setup import ORIGIN, PY, REPO, cpu_seconds, process_cpu, rss_kb, wait_port

REDIS_PORTS = range(56400, 56410)
WEB_PORTS = range(18300, 18400)
MIN_BURST_FRAMES = 10_000
LATENCY_RATE = 200.0
LATENCY_RUNS = 5  # the p99 at LATENCY_RATE is the median of this many runs of about 5 s
MAX_SOCKETS = 10_000
SETUP_TIMEOUT_S = 180  # one reply during set-up; a busy shared machine has taken over 60 s


def prepare_database(env: dict[str, str], pairs: int) -> list[tuple[str, str, str]]:
    """Users in pairs of mutual contacts; returns (access token, email, peer email) per socket."""
    subprocess.run([PY, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=env, check=True)
    script = f"""
import json, django
django.setup()
from django.db import transaction
from accounts.email_identity import email_key
from accounts.models import User
from accounts.tokens import issue_pair
from signaling.models import Contact
emails = [f"u{{i}}@bench.example" for i in range({pairs * 2})]
User.objects.bulk_create([User(email=e, email_key=email_key(e), email_verified=True, password="!") for e in emails])
users = list(User.objects.order_by("id"))
Contact.objects.bulk_create([Contact(requester=users[i], addressee=users[i + 1], addressee_email=users[i + 1].email_key,
    requester_stance="asked", addressee_stance="asked") for i in range(0, len(users), 2)])
out = []
with transaction.atomic():
    for i, user in enumerate(users):
        peer = users[i + 1] if i % 2 == 0 else users[i - 1]
        out.append([issue_pair(user).access, user.email, peer.email])
print(json.dumps(out))
"""
    result = subprocess.run([PY, "-c", script], cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return [tuple(x) for x in json.loads(result.stdout.strip().splitlines()[-1])]


def raise_file_limit() -> int:
    """Each socket is a file descriptor on both sides: take the hard limit (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def port_in(ports: range) -> int:
    import socket

    for port in ports:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {ports.start}-{ports.stop - 1}")


class Servers:
    """A private redis-server and N web processes (the Procfile's web: line) on one database."""

    def __init__(self, count: int, tmp: str, opts: argparse.Namespace) -> None:
        self.count, self.tmp, self.opts = count, tmp, opts
        self.redis: subprocess.Popen[bytes] | None = None
        self.webs: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []
        self.env: dict[str, str] = {}

    def start_redis(self) -> None:
        port = port_in(REDIS_PORTS)
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(port, self.redis)
        self.pin(self.redis.pid)
        self.env = {
            **os.environ,
            "NUMFREE_DATA_DIR": self.tmp,
            "DATABASE_URL": f"sqlite:///{self.tmp}/bench.sqlite3",
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "SECRET_KEY": "bench-only-secret-key-bench-only-secret-key-0123456789",
            "NUMFREE_SIGNALING_RATE_PER_SECOND": "100000",
            "NUMFREE_SIGNALING_RATE_BURST": "100000",
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "numfree.settings",
            "HOST": "127.0.0.1",
            "PATH": f"{Path(PY).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",  # the Procfile says `daphne`
        }

    def start_webs(self) -> None:
        for n in range(self.count):
            port = port_in(range(WEB_PORTS.start + 10 * n, WEB_PORTS.stop))
            log = open(f"/tmp/numfree-bench-cluster-web{n}.log", "wb")  # noqa: SIM115
            web = subprocess.Popen(
                [str(REPO / "deploy/procfile-run"), "web"],
                cwd=REPO,
                env={**self.env, "PORT": str(port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            wait_port(port, web)
            self.pin(web.pid)
            self.webs.append(web)
            self.ports.append(port)

    def pin(self, pid: int) -> None:
        if self.opts.pin:
            os.sched_setaffinity(pid, {0})

    @property
    def pids(self) -> list[int]:
        return [w.pid for w in self.webs] + ([self.redis.pid] if self.redis else [])

    def cpu(self) -> dict[int, float]:
        return {pid: cpu_seconds(pid) for pid in self.pids}

    def stop(self) -> None:
        for proc in [*self.webs, *([self.redis] if self.redis else [])]:
            proc.terminate()
        for proc in [*self.webs, *([self.redis] if self.redis else [])]:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def placement(n: int, processes: int) -> int:
    """Socket n's process. Pairs are (2k, 2k+1); with two processes pairs go A-A, B-B, A-B, B-A, ...
    so half the calls (and frames) cross processes and each process has half the sockets."""
    if processes == 1:
        return 0
    pair, callee = divmod(n, 2)
    caller_at = pair % 2
    if not callee or (pair // 2) % 2 == 0:
        return caller_at
    return 1 - caller_at


async def open_sockets(urls: list[str], people: list[tuple[str, str, str]]) -> tuple[list[Pair], float]:
    """Authenticate every socket at its process's URL, then set up one answered call per pair."""
    import websockets

    sem = asyncio.Semaphore(50)

    async def one(url: str, token: str, n: int):  # type: ignore[no-untyped-def]
        async with sem:
            for attempt in range(3):
                try:
                    # max_queue=None: a socket whose frames wait unread still answers the server's
                    # pings (the Procfile's --ping-timeout 10 resets sockets that do not).
                    ws = await websockets.connect(
                        url, origin=ORIGIN, max_size=2**20, open_timeout=60, ping_interval=None, max_queue=None
                    )
                    break
                except (websockets.InvalidMessage, OSError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(1)
            await ws.send(json.dumps({"type": "auth", "token": token, "device_id": f"bench-dev-{n:06d}"}))
            while json.loads(await asyncio.wait_for(ws.recv(), SETUP_TIMEOUT_S))["type"] != "presence.snapshot":
                pass
            return ws

    started = time.perf_counter()
    sockets = await asyncio.gather(*(one(urls[n], tok, n) for n, (tok, _, _) in enumerate(people)))
    rate = len(sockets) / (time.perf_counter() - started)
    print(f"  {len(sockets)} sockets authenticated at {rate:.0f}/s; setting up calls", file=sys.stderr, flush=True)
    pairs = [Pair(sockets[i], sockets[i + 1], f"bench-call-{i:06d}") for i in range(0, len(sockets), 2)]

    async def setup(pair: Pair, callee_email: str) -> None:
        async with sem:
            invite = {"type": "call.invite", "call_id": pair.call_id, "to": callee_email, "sdp": "v=0"}
            await pair.caller.send(json.dumps(invite))
            while json.loads(await asyncio.wait_for(pair.callee.recv(), SETUP_TIMEOUT_S))["type"] != "call.invite":
                pass
            await pair.callee.send(json.dumps({"type": "call.answer", "call_id": pair.call_id, "sdp": "v=0"}))
            while json.loads(await asyncio.wait_for(pair.caller.recv(), SETUP_TIMEOUT_S))["type"] != "call.answer":
                pass

    await asyncio.gather(*(setup(p, people[i * 2 + 1][1]) for i, p in enumerate(pairs)))
    return pairs, rate


async def idle(servers: Servers, limit_s: float = 120) -> None:
    """Wait until the servers are idle (call log written, presence settled): bursts measure relaying."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = sum(servers.cpu().values())
        await asyncio.sleep(0.5)
        if sum(servers.cpu().values()) - before < 0.05:
            return


def start_profiles(servers: Servers, prefix: str, label: str) -> list[subprocess.Popen[bytes]]:
    spy = str(Path(PY).parent / "py-spy")
    return [
        subprocess.Popen(
            [
                spy,
                "record",
                "--pid",
                str(web.pid),
                "--format",
                "raw",
                "--rate",
                "250",
                "--nonblocking",
                "-o",
                f"{prefix}.{label}.web{n}.txt",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n, web in enumerate(servers.webs)
    ]


async def measure(processes: int, sockets: int, opts: argparse.Namespace, label: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        servers = Servers(processes, tmp, opts)
        profiles: list[subprocess.Popen[bytes]] = []
        try:
            servers.start_redis()
            people = prepare_database(servers.env, sockets // 2)
            servers.start_webs()
            await asyncio.sleep(0.5)
            rss0 = sum(rss_kb(pid) for pid in servers.pids)
            urls = [f"ws://127.0.0.1:{servers.ports[placement(n, processes)]}/ws/signaling/" for n in range(sockets)]
            pairs, open_rate = await open_sockets(urls, people)
            crossing = sum(placement(2 * k, processes) != placement(2 * k + 1, processes) for k in range(len(pairs)))
            await relay(pairs, 5, None)  # warm-up
            await idle(servers)
            rss1 = sum(rss_kb(pid) for pid in servers.pids)
            # What merely holding the sockets costs (pings every --ping-interval, daphne's
            # per-second scan, presence upkeep): CPU over 5 s without frames.
            cpu0 = servers.cpu()
            await asyncio.sleep(5)
            idle_pct = 100 * (sum(servers.cpu().values()) - sum(cpu0.values())) / 5
            if opts.profile:
                profiles = start_profiles(servers, opts.profile, label)
                await asyncio.sleep(1)
            bursts = []
            repeats = max(3, -(-MIN_BURST_FRAMES // (opts.frames * len(pairs))))
            for _ in range(repeats):
                cpu0, client0 = servers.cpu(), process_cpu()
                burst = await relay(pairs, opts.frames, None)
                cpu1, client1 = servers.cpu(), process_cpu()
                burst["cpu"] = {pid: cpu1[pid] - cpu0[pid] for pid in cpu0}
                burst["client_pct"] = 100 * (client1 - client0) / burst["seconds"]
                bursts.append(burst)
            received = sum(b["received"] for b in bursts)
            redis_pid = servers.pids[-1]
            burst_cpu = sum(sum(b["cpu"].values()) for b in bursts)
            redis_cpu = sum(b["cpu"][redis_pid] for b in bursts)
            # The same offered load at every size (the paced figure of bench/signaling.py), then
            # p99 at 200 frames/s (about 5 s a run, median of 5: p99 is noisy). A socket
            # the server dropped ends these phases; their figures are then missing (nan).
            nan = {"received": 0, "lost": 0, "p50_ms": float("nan"), "p99_ms": float("nan"), "cpu_us": float("nan")}
            steady, paced_cpu, runs, dropped = dict(nan), float("nan"), [], ""
            try:
                if not opts.bursts_only:
                    cpu0 = servers.cpu()
                    steady = await relay(pairs, max(1, round(opts.paced_rate * 4 / len(pairs))), opts.paced_rate)
                    paced_cpu = sum(servers.cpu().values()) - sum(cpu0.values())
                    for _ in range(LATENCY_RUNS):
                        cpu0 = servers.cpu()
                        run = await relay(pairs, max(1, int(LATENCY_RATE * 5 / len(pairs))), LATENCY_RATE)
                        spent = sum(servers.cpu().values()) - sum(cpu0.values())
                        run["cpu_us"] = spent * 1e6 / max(1, run["received"])
                        runs.append(run)
            except websockets.ConnectionClosed as exc:
                dropped = f"a socket was dropped by the server ({exc!r}) after the bursts"
            runs = (runs + [dict(nan)] * LATENCY_RUNS)[:LATENCY_RUNS]
            mid = sorted(runs, key=lambda r: r["p99_ms"])[LATENCY_RUNS // 2]
            for proc in profiles:
                proc.send_signal(2)
                proc.wait(30)
            for pair in pairs:
                await pair.caller.close()
                await pair.callee.close()
            if dropped:
                print(f"  {label}, {sockets} sockets: {dropped}", flush=True)
            return {
                "label": label,
                "processes": processes,
                "sockets": sockets,
                "crossing": crossing / max(1, len(pairs)),
                "cpu_us": burst_cpu * 1e6 / max(1, received),
                "cpu_range": (
                    min(sum(b["cpu"].values()) * 1e6 / max(1, b["received"]) for b in bursts),
                    max(sum(b["cpu"].values()) * 1e6 / max(1, b["received"]) for b in bursts),
                ),
                "redis_us": redis_cpu * 1e6 / max(1, received),
                "frames_per_s": sorted(b["received"] / b["seconds"] for b in bursts)[len(bursts) // 2],
                "client_pct": sorted(b["client_pct"] for b in bursts)[len(bursts) // 2],
                "paced_cpu_us": paced_cpu * 1e6 / max(1, steady["received"]) if steady["received"] else float("nan"),
                "paced_p99_ms": steady["p99_ms"],
                "p50_ms": mid["p50_ms"],
                "p99_ms": mid["p99_ms"],
                "p99_runs": [r["p99_ms"] for r in runs],
                "rate_cpu_us": sorted(r["cpu_us"] for r in runs)[LATENCY_RUNS // 2],
                "lost": sum(b["lost"] for b in bursts) + steady["lost"] + sum(r["lost"] for r in runs),
                "kb_per_socket": (rss1 - rss0) / sockets,
                "idle_pct": idle_pct,
                "sockets_per_s": open_rate,
            }
        finally:
            for proc in profiles:
                if proc.poll() is None:
                    proc.kill()
            servers.stop()


def show(r: dict[str, Any], opts: argparse.Namespace) -> None:
    print(
        f"{r['label']:14} {r['sockets']:>6} sockets, {r['crossing']:.0%} of calls cross processes: "
        f"burst {r['cpu_us']:4.0f} us CPU/frame ({r['cpu_range'][0]:.0f}-{r['cpu_range'][1]:.0f}; "
        f"redis-server {r['redis_us']:.0f}), {r['frames_per_s']:6.0f} frames/s (client {r['client_pct']:.0f}% CPU); "
        f"at {opts.paced_rate:.0f}/s {r['paced_cpu_us']:.0f} us/frame p99 {r['paced_p99_ms']:.1f} ms; "
        f"at {LATENCY_RATE:.0f}/s {r['rate_cpu_us']:.0f} us/frame p50 {r['p50_ms']:.2f} ms "
        f"p99 {r['p99_ms']:.2f} ms ({len(r['p99_runs'])} runs: {', '.join(f'{x:.1f}' for x in r['p99_runs'])}); "
        f"{r['kb_per_socket']:.1f} KB RSS/socket, idle {r['idle_pct']:.1f}% CPU, "
        f"{r['sockets_per_s']:.0f} sockets/s, {r['lost']} lost",
        flush=True,
    )


def ratio(name: str, high: dict[str, Any], low: dict[str, Any], goal: float) -> None:
    def x(key: str) -> str:
        return f"{high[key] / low[key]:.2f}x"

    print(
        f"ratio          {name}: burst {x('cpu_us')}, at {LATENCY_RATE:.0f}/s {x('rate_cpu_us')}, "
        f"paced {x('paced_cpu_us')} (goal <= {goal}x); p99 at {LATENCY_RATE:.0f}/s {high['p99_ms']:.2f} ms "
        f"vs {low['p99_ms']:.2f} ms; lost {high['lost']} + {low['lost']}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000, help="sockets for the one- vs two-process run")
    parser.add_argument("--scale", default="", help="socket counts for one process, e.g. 1000,10000 (skips 1 vs 2)")
    parser.add_argument("--frames", type=int, default=20, help="frames per pair in each burst")
    parser.add_argument("--paced-rate", type=float, default=2000.0, help="frames/s of the steady run")
    parser.add_argument("--repeat", type=int, default=1, help="repeat the whole comparison (figures per repeat)")
    parser.add_argument("--bursts-only", action="store_true", help="skip the paced and 200 frames/s phases")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=(os.cpu_count() or 1) >= 2)
    parser.add_argument("--profile", metavar="PREFIX", help="py-spy raw stacks of each web process: PREFIX.*.txt")
    opts = parser.parse_args()
    if opts.pin:
        os.sched_setaffinity(0, {1})
    limit = raise_file_limit()
    print(f"pinned {opts.pin}, file limit {limit}, load average {os.getloadavg()[0]:.2f} at start", flush=True)
    for _ in range(max(1, min(opts.repeat, 5))):
        if opts.scale:
            sizes = [min(MAX_SOCKETS, int(n) - int(n) % 2) for n in opts.scale.split(",") if n.strip()]
            if max(sizes) + 100 > limit:
                raise SystemExit(f"{max(sizes)} sockets need a file limit above {limit}")
            figures = {}
            for n in sizes:
                figures[n] = await measure(1, n, opts, "1 process")
                show(figures[n], opts)
            ratio(f"{max(sizes)} / {min(sizes)} sockets", figures[max(sizes)], figures[min(sizes)], 1.2)
        else:
            sockets = opts.sockets - opts.sockets % 4
            one = await measure(1, sockets, opts, "1 process")
            show(one, opts)
            two = await measure(2, sockets, opts, "2 processes")
            show(two, opts)
            ratio("2 processes / 1 (web + redis-server CPU)", two, one, 2.0)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    asyncio.run(main())
