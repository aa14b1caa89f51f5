"""Signaling bench, the clients: opening sockets on NumFree and on the plain relay, pacing frames, timing them.

Part of bench/signaling.py (which says how to run it).
"""

from __future__ import annotations

import asyncio
import json
import time

from bench.signaling_setup import CANDIDATE, ORIGIN, SDP_3K

IN_FLIGHT = 100  # handshakes at a time, the same for NumFree and the plain relay


class Pair:
    def __init__(self, caller: object, callee: object, call_id: str) -> None:
        self.caller, self.callee, self.call_id = caller, callee, call_id


async def open_numfree(url: str, people: list[tuple[str, str, str]], calls: bool = True) -> tuple[list[Pair], float]:
    """Authenticated sockets (IN_FLIGHT handshakes at a time), then an answered call per pair unless `calls` is False."""
    import websockets

    sem = asyncio.Semaphore(IN_FLIGHT)

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

    if calls:
        await asyncio.gather(*(setup(p, people[i * 2 + 1][1]) for i, p in enumerate(pairs)))
    return pairs, rate


async def open_plain(url: str, count: int) -> tuple[list[Pair], float]:
    import websockets

    sem = asyncio.Semaphore(IN_FLIGHT)

    async def one(n: int):  # type: ignore[no-untyped-def]
        async with sem:
            ws = await websockets.connect(url, max_size=2**20, open_timeout=60, ping_interval=None)
            peer = n + 1 if n % 2 == 0 else n - 1
            await ws.send(json.dumps({"me": str(n), "peer": str(peer), "call_id": f"bench-call-{n - n % 2:06d}"}))
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
