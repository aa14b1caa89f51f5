"""Signaling bench, sockets coming and going: memory over connect/close cycles, and a reconnect storm.

Part of bench/signaling.py (which says how to run it). Both run on NumFree and on
the plain relay, each in a fresh server process, the two in the same run.

- churn: a warm-up of 20 sockets, then CYCLES cycles of N sockets that connect
  (NumFree: and authenticate) and all close; server RSS once it is idle after
  each close, and KB of RSS per idle socket after the warm-up (the first
  cycle's: later ones reuse what the first one's sockets freed).
- storm: N sockets connect and authenticate, then all close at once (what a
  restart of the proxy does to them) and at once reconnect, as many handshakes
  in flight as the server's listen backlog (1,024), and stay open; how long until
  every one is back and authenticated, how many were refused for the auth timeout
  (4401 `not_authenticated`), and server RSS with all of them open before and
  after the storm.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from typing import Any

from bench.signaling_load import IN_FLIGHT, open_numfree, open_plain
from bench.signaling_setup import ORIGIN, cpu_seconds, rss_kb, running_server

CYCLES = 3
WARM_UP_SOCKETS = 20
STORM_IN_FLIGHT = 1024
STORM_LIMIT_S = 120


async def idle(pid: int, limit_s: float = 60) -> None:
    """Until the server used under 2% of a core over half a second, then 2.5 s more: daphne
    reaps closed connections once a second, and the GC freeze runs once a second."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if cpu_seconds(pid) - before < 0.01:
            break
    await asyncio.sleep(2.5)


async def close_all(sockets: list[Any]) -> None:
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def flatten(pairs: list[Any]) -> list[Any]:
    return [ws for pair in pairs for ws in (pair.caller, pair.callee)]


async def churn(kind: str, sockets: int, opts: argparse.Namespace) -> dict[str, Any]:
    async with running_server(kind, sockets, opts) as srv:
        # Warm-up: a few sockets, so what is built once (the hub, imports, caches) is built.
        few = min(WARM_UP_SOCKETS, sockets)
        pairs, _ = await (
            open_numfree(srv.url, srv.people[:few], calls=False) if kind == "numfree" else open_plain(srv.url, few)
        )
        await close_all(flatten(pairs))
        await idle(srv.pid)
        closed_kb = [rss_kb(srv.pid)]
        per_socket, rates, cpu_ms = [], [], []
        for _ in range(CYCLES):
            before, cpu0 = rss_kb(srv.pid), cpu_seconds(srv.pid)
            pairs, rate = await (
                open_numfree(srv.url, srv.people, calls=False) if kind == "numfree" else open_plain(srv.url, sockets)
            )
            rates.append(rate)
            cpu_ms.append((cpu_seconds(srv.pid) - cpu0) * 1000 / sockets)
            await asyncio.sleep(1)
            per_socket.append((rss_kb(srv.pid) - before) / sockets)
            await close_all(flatten(pairs))
            await idle(srv.pid)
            closed_kb.append(rss_kb(srv.pid))
        return {
            "sockets": sockets,
            "closed_mb": [kb / 1024 for kb in closed_kb],
            # The first cycle's: later cycles reuse the memory the first one's sockets freed.
            "kb_per_socket": per_socket[0],
            "sockets_per_s": statistics.median(rates),
            "cpu_ms_per_socket": statistics.median(cpu_ms),
        }


def show_churn(name: str, r: dict[str, Any]) -> None:
    mb = r["closed_mb"]  # after the warm-up, then after each cycle's close
    print(
        f"churn     {name:8} {r['sockets']} sockets x {CYCLES} connect/close cycles: RSS after each close "
        + " -> ".join(f"{x:.1f}" for x in mb[1:])
        + f" MB ({100 * (mb[-1] - mb[1]) / mb[1]:+.1f}% first to last; {mb[0]:.1f} MB after the warm-up); "
        + f"KB RSS per idle socket after warm-up {r['kb_per_socket']:.1f}; "
        + f"{r['sockets_per_s']:.0f} sockets/s opened (and authenticated), {IN_FLIGHT} handshakes in flight "
        + f"(server CPU {r['cpu_ms_per_socket']:.2f} ms per socket: at most {1000 / r['cpu_ms_per_socket']:.0f}/s on one core)"
    )


async def _reconnect_numfree(url: str, token: str, device: str, kept: list[Any]) -> str:
    """One socket back and kept open: 'ok', 'auth_timeout' (refused with 4401 not_authenticated) or what failed."""
    import websockets

    for _ in range(5):  # a handshake the server could not take (backlog full) is retried
        try:
            ws = await websockets.connect(url, origin=ORIGIN, max_size=2**20, open_timeout=30, ping_interval=None)
            break
        except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidMessage):
            await asyncio.sleep(0.2)
    else:
        return "handshake_failed"
    try:
        await ws.send(json.dumps({"type": "auth", "token": token, "device_id": device}))
        for _ in range(10):
            frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if frame["type"] == "auth.ok":
                kept.append(ws)
                return "ok"
            if frame["type"] == "error":
                return "auth_timeout" if frame.get("code") == "not_authenticated" else frame.get("code", "error")
        return "no_auth_ok"
    except (websockets.ConnectionClosed, TimeoutError):
        return "closed" if ws.close_code != 4401 else "auth_timeout"


async def _reconnect_plain(url: str, n: int, kept: list[Any]) -> str:
    import websockets

    for _ in range(5):
        try:
            ws = await websockets.connect(url, max_size=2**20, open_timeout=30, ping_interval=None)
            break
        except (OSError, TimeoutError, websockets.InvalidHandshake, websockets.InvalidMessage):
            await asyncio.sleep(0.2)
    else:
        return "handshake_failed"
    try:
        peer = n + 1 if n % 2 == 0 else n - 1
        await ws.send(json.dumps({"me": str(n), "peer": str(peer), "call_id": f"bench-call-{n - n % 2:06d}"}))
        await asyncio.wait_for(ws.recv(), 30)
        kept.append(ws)
        return "ok"
    except (websockets.ConnectionClosed, TimeoutError):
        return "closed"


async def storm(kind: str, sockets: int, opts: argparse.Namespace) -> dict[str, Any]:
    async with running_server(kind, sockets, opts) as srv:
        pairs, _ = await (
            open_numfree(srv.url, srv.people, calls=False) if kind == "numfree" else open_plain(srv.url, sockets)
        )
        await idle(srv.pid)
        rss_before = rss_kb(srv.pid)
        await close_all(flatten(pairs))
        del pairs
        gate = asyncio.Semaphore(STORM_IN_FLIGHT)
        back: list[float] = []
        kept: list[Any] = []
        started = time.perf_counter()

        async def one(n: int) -> str:
            async with gate:
                if kind == "numfree":
                    outcome = await _reconnect_numfree(srv.url, srv.people[n][0], f"bench-dev-{n:06d}", kept)
                else:
                    outcome = await _reconnect_plain(srv.url, n, kept)
            if outcome == "ok":
                back.append(time.perf_counter() - started)
            return outcome

        try:
            outcomes = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(sockets))), STORM_LIMIT_S)
            await idle(srv.pid)
            rss_after = rss_kb(srv.pid)  # every socket open again, as before the storm
        finally:
            await close_all(kept)
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome] = counts.get(outcome, 0) + 1
        return {
            "sockets": sockets,
            "all_back_s": max(back) if len(back) == sockets else float("inf"),
            "p50_back_s": statistics.median(back) if back else float("nan"),
            "outcomes": counts,
            "rss_before_mb": rss_before / 1024,
            "rss_after_mb": rss_after / 1024,
        }


def show_storm(name: str, r: dict[str, Any]) -> None:
    change = 100 * (r["rss_after_mb"] - r["rss_before_mb"]) / r["rss_before_mb"]
    print(
        f"storm     {name:8} {r['sockets']} sockets closed at once and reconnected: all back in "
        + f"{r['all_back_s']:.1f} s (median {r['p50_back_s']:.1f} s), outcomes {r['outcomes']}, "
        + f"refused for the auth timeout {r['outcomes'].get('auth_timeout', 0)}; server RSS with them open "
        + f"{r['rss_before_mb']:.1f} MB before the storm, {r['rss_after_mb']:.1f} MB after ({change:+.1f}%)"
    )
