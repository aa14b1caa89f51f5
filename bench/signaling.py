"""Signaling benchmark: server CPU per relayed frame, throughput, latency, memory per socket, frames lost.

Starts a real daphne process (the Procfile's flags) on a throwaway SQLite
database, opens N authenticated sockets, pairs them into answered calls, and
relays ~200 B candidate frames and ~3 KB SDP (call.negotiate) frames through
the real consumer; then does the same with a plain `websockets`
dict-of-sockets relay for reference. Everything runs on 127.0.0.1.

    .venv/bin/python bench/signaling.py                  # 1,000 sockets, then CPU/frame at 100, 1,000, 5,000
    .venv/bin/python bench/signaling.py --sockets 1000 --scaling ""   # one size only
    .venv/bin/python bench/signaling.py --server uvicorn # the same app under uvicorn (uvloop, httptools, websockets)
    .venv/bin/python bench/signaling.py --profile /tmp/prof   # py-spy collapsed stacks of the server per run

On a machine with 2+ cores the server runs pinned to CPU 0 and this client to
CPU 1 (`--no-pin` to share), so the client never takes the server's core; the
client's own CPU use during the burst is printed, to show whether the client
was what limited frames/s (at 100% it was).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
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
    import websockets

    peers: dict[str, object] = {}

    async def handler(ws):  # type: ignore[no-untyped-def]
        hello = json.loads(await ws.recv())
        me, peer = hello["me"], hello["peer"]
        peers[me] = ws
        await ws.send('{"type":"ok"}')
        try:
            async for message in ws:
                target = peers.get(peer)
                if target is not None:
                    await target.send(message)
        finally:
            peers.pop(me, None)

    # No compression: daphne does not negotiate it either, so both relays move the same bytes.
    async with websockets.serve(handler, "127.0.0.1", port, max_size=65536, backlog=1024, compression=None):
        await asyncio.Future()


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


# --- the client side ---------------------------------------------------------
class Pair:
    def __init__(self, caller: object, callee: object, call_id: str) -> None:
        self.caller, self.callee, self.call_id = caller, callee, call_id


async def open_numfree(url: str, people: list[tuple[str, str, str]]) -> tuple[list[Pair], float]:
    import websockets

    sem = asyncio.Semaphore(50)

    async def one(token: str, n: int):  # type: ignore[no-untyped-def]
        async with sem:
            for attempt in range(3):  # daphne closes handshakes it could not answer within 5 s under load
                try:
                    ws = await websockets.connect(
                        url, origin=ORIGIN, max_size=2**20, open_timeout=60, ping_interval=None
                    )
                    break
                except websockets.InvalidMessage:
                    if attempt == 2:
                        raise
                    await asyncio.sleep(1)
            await ws.send(json.dumps({"type": "auth", "token": token, "device_id": f"bench-dev-{n:06d}"}))
            while json.loads(await ws.recv())["type"] != "presence.snapshot":
                pass
            return ws

    started = time.perf_counter()
    sockets = await asyncio.gather(*(one(tok, n) for n, (tok, _, _) in enumerate(people)))
    rate = len(sockets) / (time.perf_counter() - started)
    pairs = []
    for i in range(0, len(sockets), 2):
        pairs.append(Pair(sockets[i], sockets[i + 1], f"bench-call-{i:06d}"))

    async def setup(pair: Pair, callee_email: str):  # type: ignore[no-untyped-def]
        async with sem:
            await pair.caller.send(
                json.dumps({"type": "call.invite", "call_id": pair.call_id, "to": callee_email, "sdp": "v=0"})
            )
            while json.loads(await pair.callee.recv())["type"] != "call.invite":
                pass
            await pair.callee.send(json.dumps({"type": "call.answer", "call_id": pair.call_id, "sdp": "v=0"}))
            while json.loads(await pair.caller.recv())["type"] != "call.answer":
                pass

    await asyncio.gather(*(setup(p, people[i * 2 + 1][1]) for i, p in enumerate(pairs)))
    return pairs, rate


async def open_plain(url: str, count: int) -> tuple[list[Pair], float]:
    import websockets

    sem = asyncio.Semaphore(100)

    async def one(n: int):  # type: ignore[no-untyped-def]
        async with sem:
            ws = await websockets.connect(url, max_size=2**20, open_timeout=60, ping_interval=None)
            peer = n + 1 if n % 2 == 0 else n - 1
            await ws.send(json.dumps({"me": str(n), "peer": str(peer)}))
            await ws.recv()
            return ws

    started = time.perf_counter()
    sockets = await asyncio.gather(*(one(n) for n in range(count)))
    rate = len(sockets) / (time.perf_counter() - started)
    return [Pair(sockets[i], sockets[i + 1], f"bench-call-{i:06d}") for i in range(0, count, 2)], rate


def frame(call_id: str, seq: int, big: bool) -> str:
    stamp = f"{time.perf_counter():.6f}"
    if big:
        return json.dumps(
            {
                "type": "call.negotiate",
                "call_id": call_id,
                "sdp": SDP_3K + f"a=t:{stamp}:{seq}",
                "description_type": "offer",
            }
        )
    return json.dumps(
        {
            "type": "call.candidates",
            "call_id": call_id,
            "candidates": [{"candidate": f"{CANDIDATE} {stamp}:{seq}", "sdpMid": "0", "sdpMLineIndex": 0}],
        }
    )


def stamp_of(text: str) -> float:
    data = json.loads(text)
    if data["type"] == "call.negotiate":
        return float(data["sdp"].split("a=t:")[1].split(":")[0])
    if data["type"] == "call.candidates":
        return float(data["candidates"][0]["candidate"].rsplit(" ", 1)[1].split(":")[0])
    raise RuntimeError(f"unexpected frame: {text[:200]}")


async def relay(pairs: list[Pair], frames_per_pair: int, rate_per_s: float | None) -> dict[str, float]:
    """Each caller sends frames to its callee (every 10th is a 3 KB SDP); returns counts and latencies."""
    latencies: list[float] = []
    received = 0
    expected = frames_per_pair * len(pairs)
    spread = len(pairs) / rate_per_s if rate_per_s else 0  # pumps start spread over one interval

    async def drain(pair: Pair) -> None:
        nonlocal received
        got = 0
        while got < frames_per_pair:
            try:
                text = await asyncio.wait_for(pair.callee.recv(), 10 + spread)
            except TimeoutError:
                return
            if '"presence.' in text:
                continue
            latencies.append(time.perf_counter() - stamp_of(text))
            got += 1
            received += 1

    async def pump(pair: Pair, offset: float) -> None:
        if rate_per_s:
            await asyncio.sleep(offset)
        for seq in range(frames_per_pair):
            await pair.caller.send(frame(pair.call_id, seq, big=seq % 10 == 9))
            if rate_per_s and seq < frames_per_pair - 1:
                await asyncio.sleep(len(pairs) / rate_per_s)
            elif seq % 20 == 19:
                await asyncio.sleep(0)

    started = time.perf_counter()
    await asyncio.gather(*(drain(p) for p in pairs), *(pump(p, spread * i / len(pairs)) for i, p in enumerate(pairs)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "sent": expected,
        "received": received,
        "lost": expected - received,
        "seconds": elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)] if latencies else float("nan"),
    }


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


async def measure(kind: str, sockets: int, frames: int, latency: bool, opts: argparse.Namespace) -> dict[str, float]:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
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
        if kind == "numfree":
            people = prepare_database(env, sockets // 2)
            cmd = server_command(opts.server, port)
            if opts.trace_gc:  # report garbage-collector pauses over 10 ms in the server's log
                cmd = [PY, "-c", GC_TRACE, *cmd]
        else:
            cmd = [PY, __file__, "--plain-server", str(port)]
        server_log = open(f"/tmp/numfree-bench-{kind}.log", "wb")  # noqa: SIM115
        server = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=server_log, stderr=subprocess.STDOUT)
        if opts.pin:
            os.sched_setaffinity(server.pid, {0})
        profiler = None
        try:
            wait_port(port, server)
            await asyncio.sleep(0.5)
            rss_before = rss_kb(server.pid)
            url = f"ws://127.0.0.1:{port}/ws/signaling/" if kind == "numfree" else f"ws://127.0.0.1:{port}/"
            pairs, open_rate = await (open_numfree(url, people) if kind == "numfree" else open_plain(url, sockets))
            await asyncio.sleep(1)
            rss_after = rss_kb(server.pid)
            await relay(pairs, 5, None)  # warm-up
            await settle(server.pid, f"{tmp}/bench.sqlite3" if kind == "numfree" else "", sockets)
            if opts.profile:
                out = f"{opts.profile}.{kind}.{opts.server}.{sockets}.txt"
                profiler = subprocess.Popen(
                    [str(Path(PY).parent / "py-spy"), "record", "--pid", str(server.pid), "--format", opts.profile_format,
                     "--rate", "250", "--nonblocking", "-o", out],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                await asyncio.sleep(1)
            # Every socket gets the same burst (`frames` each) at every size; small sizes repeat
            # it until at least MIN_BURST_FRAMES were relayed, and every size runs it at least
            # 3 times. The range of the bursts is printed next to the figure.
            bursts = []
            repeats = max(3, -(-MIN_BURST_FRAMES // (frames * len(pairs))))
            for _ in range(repeats):
                cpu0, client0 = cpu_seconds(server.pid), process_cpu()
                burst = await relay(pairs, frames, None)
                cpu1, client1 = cpu_seconds(server.pid), process_cpu()
                burst.update(
                    cpu_us=(cpu1 - cpu0) * 1e6 / max(1, burst["received"]),
                    server_pct=100 * (cpu1 - cpu0) / burst["seconds"],
                    client_pct=100 * (client1 - client0) / burst["seconds"],
                )
                bursts.append(burst)
            median = sorted(bursts, key=lambda b: b["cpu_us"])[len(bursts) // 2]
            received = sum(b["received"] for b in bursts)
            result = {
                "client_cpu_pct": median["client_pct"],
                "server_cpu_pct": median["server_pct"],
                "sockets": sockets,
                # CPU is read in clock ticks (10 ms): the figure is over all bursts together
                "cpu_us_per_frame": sum(b["cpu_us"] * b["received"] for b in bursts) / max(1, received),
                "cpu_us_range": (bursts and min(b["cpu_us"] for b in bursts), max(b["cpu_us"] for b in bursts)),
                "frames_per_s": median["received"] / median["seconds"],
                "lost": sum(b["lost"] for b in bursts),
                "kb_per_socket": (rss_after - rss_before) / sockets,
                "sockets_per_s": open_rate,
            }
            # The same offered load at every size: per-frame cost without the batching a burst
            # gets when few sockets each send many frames back to back.
            rate = opts.paced_rate
            cpu0 = cpu_seconds(server.pid)
            steady = await relay(pairs, max(1, round(rate * 4 / len(pairs))), rate)
            cpu1 = cpu_seconds(server.pid)
            if profiler is not None:  # the profile covers the bursts and the steady run
                profiler.send_signal(2)
                profiler.wait(30)
            result.update(
                paced_cpu_us=(cpu1 - cpu0) * 1e6 / max(1, steady["received"]),
                paced_p99_ms=steady["p99_ms"],
                lost=result["lost"] + steady["lost"],
            )
            if latency:
                per_pair = max(1, int(200 * 5 / len(pairs)))  # about 5 s at 200 frames/s
                runs = [await relay(pairs, per_pair, 200.0) for _ in range(3)]  # p99 is noisy on shared cores
                mid = sorted(runs, key=lambda r: r["p99_ms"])[1]
                result.update(
                    p50_ms=mid["p50_ms"],
                    p99_ms=mid["p99_ms"],
                    p99_runs=[r["p99_ms"] for r in runs],
                    lost=result["lost"] + sum(r["lost"] for r in runs),
                )
            for pair in pairs:
                await pair.caller.close()
                await pair.callee.close()
            return result
        finally:
            if profiler is not None and profiler.poll() is None:
                profiler.kill()
            server.terminate()
            server.wait(10)


def show(name: str, r: dict[str, float]) -> None:
    print(
        f"{name:9} {r['sockets']:>6} sockets: {r['cpu_us_per_frame']:5.0f} us CPU/frame "
        + f"({r['cpu_us_range'][0]:.0f}-{r['cpu_us_range'][1]:.0f}), "
        + f"{r['frames_per_s']:8.0f} frames/s, "
        + (
            f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms @200/s "
            + f"(p99 of 3 runs: {', '.join(f'{x:.1f}' for x in r['p99_runs'])}), "
            if "p50_ms" in r
            else ""
        )
        + f"{r['kb_per_socket']:6.1f} KB RSS/socket, {r['sockets_per_s']:6.0f} sockets/s, {r['lost']} lost "
        + f"(burst: server {r['server_cpu_pct']:.0f}% CPU, client {r['client_cpu_pct']:.0f}%); "
        + f"at {PACED_RATE[0]:.0f} frames/s: {r['paced_cpu_us']:.0f} us CPU/frame, p99 {r['paced_p99_ms']:.1f} ms"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=20, help="frames per pair in each burst")
    parser.add_argument("--scaling", default="100,1000,5000", help="socket counts for the CPU/frame scaling run")
    parser.add_argument("--server", choices=["daphne", "uvicorn"], default="daphne")
    parser.add_argument("--plain", action=argparse.BooleanOptionalAction, default=True, help="also run the plain relay")
    parser.add_argument("--pin", action=argparse.BooleanOptionalAction, default=(os.cpu_count() or 1) >= 2)
    parser.add_argument(
        "--profile", metavar="PREFIX", help="write py-spy collapsed stacks of the server to PREFIX.*.txt"
    )
    parser.add_argument("--paced-rate", type=float, default=2000.0, help="frames/s of the steady run at every size")
    parser.add_argument("--profile-format", choices=["raw", "speedscope"], default="raw")
    parser.add_argument("--trace-gc", action="store_true", help="log the server's GC pauses over 10 ms")
    parser.add_argument("--plain-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    PACED_RATE[0] = args.paced_rate
    if args.plain_server:
        await plain_relay_server(args.plain_server)
        return
    if args.pin:
        os.sched_setaffinity(0, {1})
    print(f"server {args.server}, pinned {args.pin}, load average {os.getloadavg()[0]:.2f} at start")
    sockets = min(MAX_SOCKETS, args.sockets - args.sockets % 2)
    if sockets:
        numfree = await measure("numfree", sockets, args.frames, True, args)
        show("numfree", numfree)
    if sockets and args.plain:
        plain = await measure("plain", sockets, args.frames, True, args)
        show("plain", plain)
        print(
            f"ratio     CPU/frame numfree / plain websockets = {numfree['cpu_us_per_frame'] / plain['cpu_us_per_frame']:.1f}x"
        )
    scaling = [min(MAX_SOCKETS, int(n)) for n in args.scaling.split(",") if n.strip()]
    if scaling:
        figures: dict[int, dict[str, float]] = {}
        plains: dict[int, dict[str, float]] = {}
        for n in scaling:
            figures[n] = await measure("numfree", n, args.frames, False, args)
            show("numfree", figures[n])
            if args.plain:
                plains[n] = await measure("plain", n, args.frames, False, args)
                show("plain", plains[n])
        for name, runs in (("numfree", figures), ("plain", plains)):
            if not runs:
                continue
            low, high = runs[min(runs)], runs[max(runs)]
            print(
                f"scaling   {name} CPU/frame at {max(runs)} / at {min(runs)}: "
                f"burst {high['cpu_us_per_frame'] / low['cpu_us_per_frame']:.2f}x, "
                f"at {args.paced_rate:.0f} frames/s {high['paced_cpu_us'] / low['paced_cpu_us']:.2f}x"
            )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    asyncio.run(main())
