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
    .venv/bin/python bench/signaling.py --sockets 0 --scaling "" --storm 0   # only the memory churn

Besides the relay figures (and CPU per frame at a sparse 200 frames/s next to
the p99 there), it prints the memory churn (server RSS over connect/close
cycles, KB per idle socket after warm-up, sockets/s and server CPU per opened
socket; `--churn N`) and a reconnect storm (`--storm N`, 5,000: all closed at
once and reconnected; bench/signaling_churn.py), each next to the plain relay
in the same run. The plain relay parses every frame as JSON and routes it on
its `call_id`, as any real relay must. Parts: signaling_setup.py (servers,
database), signaling_load.py (clients, frames), signaling_churn.py.

On a machine with 2+ cores the server runs pinned to CPU 0 and this client to
CPU 1 (`--no-pin` to share), so the client never takes the server's core; the
client's own CPU use during the burst is printed, to show whether the client
was what limited frames/s (at 100% it was).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.signaling_churn import churn, show_churn, show_storm, storm
from bench.signaling_load import Pair, open_numfree, open_plain, relay
from bench.signaling_setup import (
    MAX_SOCKETS,
    MIN_BURST_FRAMES,
    ORIGIN,
    PACED_RATE,
    PY,
    REPO,
    cpu_seconds,
    plain_relay_server,
    process_cpu,
    raise_file_limit,
    rss_kb,
    running_server,
    settle,
    wait_port,
)

LATENCY_RUNS = 5  # the p99 at 200 frames/s is the median of this many runs of about 5 s

__all__ = ["ORIGIN", "PY", "REPO", "Pair", "cpu_seconds", "process_cpu", "relay", "rss_kb", "wait_port"]


async def measure(kind: str, sockets: int, frames: int, latency: bool, opts: argparse.Namespace) -> dict[str, float]:
    async with running_server(kind, sockets, opts) as srv:
        server = srv
        profiler = None
        try:
            rss_before = rss_kb(server.pid)
            pairs, open_rate = await (
                open_numfree(srv.url, srv.people) if kind == "numfree" else open_plain(srv.url, sockets)
            )
            await asyncio.sleep(1)
            rss_after = rss_kb(server.pid)
            await relay(pairs, 5, None)  # warm-up
            await settle(server.pid, srv.db, sockets)
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
                cpu0 = cpu_seconds(server.pid)
                runs = [await relay(pairs, per_pair, 200.0) for _ in range(LATENCY_RUNS)]  # p99 is noisy
                cpu1 = cpu_seconds(server.pid)
                result["sparse_cpu_us"] = (cpu1 - cpu0) * 1e6 / max(1, sum(r["received"] for r in runs))
                mid = sorted(runs, key=lambda r: r["p99_ms"])[LATENCY_RUNS // 2]
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


def show(name: str, r: dict[str, float]) -> None:
    print(
        f"{name:9} {r['sockets']:>6} sockets: {r['cpu_us_per_frame']:5.0f} us CPU/frame "
        + f"({r['cpu_us_range'][0]:.0f}-{r['cpu_us_range'][1]:.0f}), "
        + f"{r['frames_per_s']:8.0f} frames/s, "
        + (
            f"p50 {r['p50_ms']:.2f} ms p99 {r['p99_ms']:.2f} ms @200/s "
            + f"(p99 of {len(r['p99_runs'])} runs: {', '.join(f'{x:.1f}' for x in r['p99_runs'])}; "
            + f"{r['sparse_cpu_us']:.0f} us CPU/frame at 200 frames/s), "
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
    parser.add_argument("--churn", type=int, default=1000, help="sockets per connect/close cycle (0: skip)")
    parser.add_argument("--storm", type=int, default=5000, help="sockets in the reconnect storm (0: skip)")
    parser.add_argument(
        "--also-uvicorn", action="store_true", help="also NumFree under uvicorn, same run (relay figures and churn)"
    )
    parser.add_argument("--plain-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    PACED_RATE[0] = args.paced_rate
    if args.plain_server:
        await plain_relay_server(args.plain_server)
        return
    raise_file_limit()  # 5,000 sockets are 5,000 files here and as many in the server (it inherits the limit)
    if args.pin:
        os.sched_setaffinity(0, {1})
    print(f"server {args.server}, pinned {args.pin}, load average {os.getloadavg()[0]:.2f} at start")
    sockets = min(MAX_SOCKETS, args.sockets - args.sockets % 2)
    if sockets:
        numfree = await measure("numfree", sockets, args.frames, True, args)
        show("numfree", numfree)
    if sockets and args.also_uvicorn and args.server == "daphne":
        on_uvicorn = argparse.Namespace(**{**vars(args), "server": "uvicorn"})
        show("uvicorn", await measure("numfree", sockets, args.frames, True, on_uvicorn))
        if args.churn:
            show_churn("uvicorn", await churn("numfree", min(MAX_SOCKETS, args.churn - args.churn % 2), on_uvicorn))
    if sockets and args.plain:
        plain = await measure("plain", sockets, args.frames, True, args)
        show("plain", plain)
        print(
            f"ratio     numfree / plain relay, same run: CPU/frame burst {numfree['cpu_us_per_frame'] / plain['cpu_us_per_frame']:.2f}x, "
            f"at 200 frames/s {numfree['sparse_cpu_us'] / plain['sparse_cpu_us']:.2f}x, "
            f"p99 at 200 frames/s {numfree['p99_ms'] / plain['p99_ms']:.2f}x, "
            f"p99 at {args.paced_rate:.0f} frames/s {numfree['paced_p99_ms'] / plain['paced_p99_ms']:.2f}x, "
            f"sockets/s {numfree['sockets_per_s'] / plain['sockets_per_s']:.2f}x"
        )
    for _name, count, run, shown in (
        ("churn", args.churn, churn, show_churn),
        ("storm", args.storm, storm, show_storm),
    ):
        count = min(MAX_SOCKETS, count - count % 2)
        if count:
            shown("numfree", await run("numfree", count, args))
            if args.plain:
                shown("plain", await run("plain", count, args))
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
