"""A frozen client, under daphne started from the Procfile's own `web:` line: its socket is
dropped within 30 s and its peer told after the reconnect grace, while a healthy idle socket
(the extension's 20 s pings, protocol pongs answered) stays open."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async

from accounts.tokens import issue_pair
from tests.conftest import make_user
from tests.signaling.conftest import befriend
from tests.signaling.processes import DAPHNE, FAST_TIMERS, REPO, Socket, free_port, stop, wait_for_port

pytestmark = pytest.mark.django_db(transaction=True)

GRACE_S = 3
EXTENSION_PING_S = 20  # extension/lib/signaling.js PING_INTERVAL_MS


def procfile_web_command(port: int) -> list[str]:
    """The Procfile's `web:` line as the platform would run it, on our port."""
    line = next(line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("web:"))
    line = re.sub(r"\$\{PORT:-\d+\}", str(port), line.removeprefix("web:").strip())
    line = re.sub(r"\$\{HOST:-([^}]+)\}", r"\1", line)
    argv = shlex.split(line)
    assert argv[0] == "daphne"
    return [DAPHNE, *argv[1:]]


@pytest.fixture
def web(subprocess_env) -> Iterator[str]:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {**subprocess_env, **FAST_TIMERS, "NUMFREE_SIGNALING_RECONNECT_GRACE_MS": str(GRACE_S * 1000)}
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"numfree-procfile-{port}.log"
    with log.open("wb") as output:
        proc = subprocess.Popen(procfile_web_command(port), cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc)
        yield f"ws://127.0.0.1:{port}/ws/signaling/"
    finally:
        stop(proc)


async def token(user) -> str:  # type: ignore[no-untyped-def]
    return (await sync_to_async(issue_pair)(user)).access


def test_the_procfile_sets_daphnes_websocket_ping_interval_and_timeout():
    argv = procfile_web_command(8000)
    interval = float(argv[argv.index("--ping-interval") + 1])
    timeout = float(argv[argv.index("--ping-timeout") + 1])
    # daphne checks every 2 s; a silent socket is pinged once idle for the interval, dropped after the timeout.
    assert interval + 2 + timeout <= 30


async def test_a_frozen_client_is_dropped_within_30_s_and_its_peer_told_after_the_grace(web, subprocess_env):
    alice, bob = await sync_to_async(make_user)("alice@example.com"), await sync_to_async(make_user)("bob@example.com")
    await sync_to_async(befriend)(alice, bob)
    a = await Socket.authed(web, await token(alice), "alice-dev1")
    b = await Socket.authed(web, await token(bob), "bob-dev01")
    await a.send({"type": "call.invite", "call_id": "call-f001", "to": "bob@example.com", "sdp": "v=0 offer"})
    await b.recv_type("call.invite")
    await a.recv_type("call.status")
    await b.send({"type": "call.answer", "call_id": "call-f001", "sdp": "v=0 answer"})
    await a.recv_type("call.answer")

    b.ws.transport.pause_reading()  # frozen: reads nothing, so answers no ping, sends nothing
    frozen_at = time.monotonic()
    hangup_after = None
    pings = 0
    # Alice behaves like the extension: a ping frame every 20 s, nothing else.
    while time.monotonic() - frozen_at < 36:
        elapsed = time.monotonic() - frozen_at
        if elapsed >= EXTENSION_PING_S * (pings + 1):
            pings += 1
            await a.send({"type": "ping", "id": f"p{pings}"})
        try:
            frame = await a.recv(timeout=0.5)
        except TimeoutError:
            continue
        if frame["type"] == "call.hangup":
            assert frame == {"type": "call.hangup", "call_id": "call-f001", "reason": "offline"}
            hangup_after = time.monotonic() - frozen_at
        elif frame["type"] == "pong":
            assert frame["id"] == f"p{pings}"
    assert hangup_after is not None, "the peer was never told"
    assert hangup_after <= 30 + GRACE_S, hangup_after
    await a.send({"type": "ping", "id": "still-here"})
    assert await a.recv_type("pong") == {"type": "pong", "id": "still-here"}, "a healthy idle socket was dropped"
    await a.close()
    b.ws.transport.abort()
