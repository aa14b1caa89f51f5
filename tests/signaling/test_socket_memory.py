"""Memory stays flat under socket churn, with the production garbage-collector settings.

The Procfile's `web:` line runs (daphne, the real consumer, numfree/gc_pauses.py
freezing survivors every second), wrapped so that on SIGUSR1 it writes how many
objects of each socket-related type exist, frozen ones included, without collecting
anything. After a warm-up, three rounds of sockets that connect, authenticate, talk
and close must leave those counts where they were: a reference cycle left by a
closed socket would wait for the hourly full pass and show up here as a count that
grows by one per socket per round. Counts, not times or RSS.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async

from accounts.tokens import issue_pair
from tests.conftest import make_user
from tests.signaling.conftest import befriend
from tests.signaling.processes import FAST_TIMERS, REPO, Socket, free_port, stop, wait_for_port
from tests.signaling.test_frozen_client import procfile_web_command

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS = 20
ROUNDS = 3

# Runs the server; on SIGUSR1 writes {type: count} of socket-related objects as one JSON line.
COUNTING_SERVER = r"""
import collections, gc, json, os, runpy, signal, sys
OUT = os.environ["NUMFREE_TEST_OBJECT_COUNTS"]
MODULES = ("daphne", "autobahn", "twisted", "signaling", "asyncio", "_asyncio", "channels", "txaio", "_io")
# Not functions and cells: Django's SQL compiler makes a function/cell cycle per query (a
# recursive closure in SQLCompiler.get_select), in the sync thread; it is the database's, not a socket's.
NAMES = {"coroutine", "frame", "traceback", "Context", "method", "partial"}
def kind(t):
    module = t.__dict__.get("__module__", None) if isinstance(t.__dict__.get("__module__", None), str) else "builtins"
    if module.split(".")[0] in MODULES or t.__name__ in NAMES:
        return f"{module}.{t.__qualname__}"
    return None
def counts(*_):
    gc.unfreeze()  # frozen objects are invisible to get_objects; nothing is collected here
    try:
        found = collections.Counter(kind(type(o)) for o in gc.get_objects())
        found.pop(None, None)
    finally:
        gc.freeze()
    with open(OUT, "a") as out:
        out.write(json.dumps(found) + "\n")
signal.signal(signal.SIGUSR1, counts)
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


class CountingServer:
    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.port = free_port()
        self.out = tmp / "counts.jsonl"
        self.log = tmp / "server.log"
        env = {**env, **FAST_TIMERS, "NUMFREE_TEST_OBJECT_COUNTS": str(self.out)}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", COUNTING_SERVER, *procfile_web_command(self.port)],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, self.proc)
        self.url = f"ws://127.0.0.1:{self.port}/ws/signaling/"

    async def counts(self) -> dict[str, int]:
        lines = self.out.read_text().count("\n") if self.out.exists() else 0
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.out.exists() and self.out.read_text().count("\n") > lines:
                return json.loads(self.out.read_text().splitlines()[-1])
            await asyncio.sleep(0.05)
        raise AssertionError(f"the server wrote no counts; its log: {self.log.read_text()[-2000:]}")


async def until(sock: Socket, kind: str) -> None:
    for _ in range(20):  # call.status and presence frames come in between
        if (await sock.recv())["type"] == kind:
            return
    raise AssertionError(f"no {kind}")


async def one_round(url: str, people: list[tuple[str, str]]) -> None:
    """Every socket connects and authenticates; pairs of contacts call and hang up; all close."""
    sockets = await asyncio.gather(*(Socket.authed(url, token, device) for token, device in people))
    for n in range(0, len(sockets), 2):
        caller, callee = sockets[n], sockets[n + 1]
        call_id = f"call-mem{n:04d}"
        await caller.send({"type": "call.invite", "call_id": call_id, "to": f"m{n + 1}@example.com", "sdp": "v=0"})
        await until(callee, "call.invite")
        await callee.send({"type": "call.answer", "call_id": call_id, "sdp": "v=0"})
        await until(caller, "call.answer")
        await caller.send({"type": "call.hangup", "call_id": call_id, "reason": "user_hangup"})
        await until(callee, "call.hangup")
    await asyncio.gather(*(s.close() for s in sockets))


# With Redis, the server's Redis clients keep pooled asyncio connections; a round with more at
# once than the warm-up adds one. Sockets themselves are Twisted objects under daphne.
POOLED = ("asyncio.", "builtins.Context")


def grown(now: dict[str, int], baseline: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {
        kind: (baseline.get(kind, 0), count)
        for kind, count in now.items()
        if count > baseline.get(kind, 0) and not (kind.startswith(POOLED) and count - baseline.get(kind, 0) <= 2)
    }


async def settled(server: CountingServer, baseline: dict[str, int]) -> dict[str, tuple[int, int]]:
    """Poll (the server reaps closed connections once a second) until nothing is above the baseline."""
    deadline = time.monotonic() + 20
    extra = grown(await server.counts(), baseline)
    while extra and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        extra = grown(await server.counts(), baseline)
    return extra


async def quiet(server: CountingServer) -> dict[str, int]:
    """The counts once two readings half a second apart agree (the warm-up's sockets reaped)."""
    deadline = time.monotonic() + 20
    last = await server.counts()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = await server.counts()
        if now == last:
            return now
        last = now
    return last


async def test_socket_objects_return_to_baseline_after_three_connect_close_rounds(subprocess_env, tmp_path):
    users = [await sync_to_async(make_user)(f"m{n}@example.com") for n in range(SOCKETS)]
    for n in range(0, SOCKETS, 2):
        await sync_to_async(befriend)(users[n], users[n + 1])
    server = CountingServer(subprocess_env, tmp_path)
    try:
        for warm_up in range(2):  # lazily built things (the hub, caches, pools) exist from here on
            people = [
                ((await sync_to_async(issue_pair)(u)).access, f"dev-w{warm_up}-{n:04d}") for n, u in enumerate(users)
            ]
            await one_round(server.url, people)
        baseline = await quiet(server)
        assert any(kind.startswith("signaling.") for kind in baseline), baseline
        for round_no in range(ROUNDS):
            people = [
                ((await sync_to_async(issue_pair)(u)).access, f"dev-r{round_no}-{n:04d}") for n, u in enumerate(users)
            ]
            await one_round(server.url, people)
            extra = await settled(server, baseline)
            assert not extra, (
                f"after round {round_no + 1}, (baseline, now) by type: {extra}; "
                f"the server's log: {server.log.read_text()[-3000:]}"
            )
    finally:
        stop(server.proc)
    if os.environ.get("NUMFREE_TEST_KEEP_COUNTS"):
        print(server.out.read_text().splitlines()[-1])
