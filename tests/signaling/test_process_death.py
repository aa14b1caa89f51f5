"""A web process dies (SIGKILL) or is stopped (SIGTERM) under a live call: real daphne processes
on a private redis-server. What the callers notice: after reconnecting, candidates, an ICE
restart and the hangup reach the other side; a party that was on the dead process is hung
up `offline` after the reconnect grace; a SIGTERM closes sockets with 1012; the call log ends.

Redis-only by nature (one process cannot outlive itself): skipped without REDIS_URL like the
other Redis tests, a failure when CI=true and redis-server is missing.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from accounts.tokens import issue_pair
from tests.conftest import IN_CI, make_user
from tests.signaling.conftest import befriend
from tests.signaling.processes import Daphne, Socket, daphnes, private_redis
from tests.signaling.test_processes import CAND, wait_for_log

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

LIVENESS_S = 1.5  # min(3 s, the presence TTL of FAST_TIMERS): how long a dead process still counts
BEAT_S = LIVENESS_S / 3


@pytest.fixture
def people(subprocess_env):  # type: ignore[no-untyped-def]
    if IN_CI and not shutil.which("redis-server"):
        pytest.fail("CI=true and redis-server is missing")
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    befriend(alice, bob)
    return alice, bob


async def token(user) -> str:  # type: ignore[no-untyped-def]
    return (await sync_to_async(issue_pair)(user)).access


async def place_call(a: Socket, b: Socket, call_id: str) -> None:
    await a.send({"type": "call.invite", "call_id": call_id, "to": "bob@example.com", "sdp": "v=0 offer"})
    await b.recv_type("call.invite")
    await a.recv_type("call.status")
    await b.send({"type": "call.answer", "call_id": call_id, "sdp": "v=0 answer"})
    await a.recv_type("call.answer")


async def reconnect(url: str, user: Any, device: str, deadline: float) -> Socket:
    while True:
        try:
            return await Socket.authed(url, await token(user), device)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def until_delivered(sender: Socket, receiver: Socket, frame: dict[str, Any], deadline: float) -> dict:
    """Send `frame` until the server stops answering `not_delivered`; returns what the receiver got."""
    attempt = 0
    while True:
        attempt += 1
        await sender.send({**frame, "id": f"try{attempt}"})
        try:
            reply = await sender.recv_type("error", timeout=0.4)
        except TimeoutError:
            return await receiver.recv_type(frame["type"], timeout=3)
        # Until the adopting process has re-attached this socket, the call is not_delivered, or
        # unknown_call on a socket that reconnected before the adoption: both mean "try again".
        assert reply["code"] in {"not_delivered", "unknown_call"}, reply
        assert time.monotonic() < deadline, "signaling did not come back in time"
        await asyncio.sleep(0.1)


async def test_a_call_survives_the_sigkill_of_its_home_process(subprocess_env, people):
    alice, bob = people
    env = {"NUMFREE_SIGNALING_RECONNECT_GRACE_MS": "20000"}
    with private_redis() as redis, daphnes(subprocess_env, 2, {"REDIS_URL": redis.url, **env}) as (web_a, web_b):
        a = await Socket.authed(web_a.ws_url, await token(alice), "alice-dev1")
        b = await Socket.authed(web_a.ws_url, await token(bob), "bob-dev01")
        await place_call(a, b, "call-k001")  # its home is web_a, where both parties are

        web_a.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        web_a.proc.wait(5)

        async def restart_a() -> Daphne:
            return await asyncio.to_thread(Daphne, subprocess_env, {"REDIS_URL": redis.url, **env})

        restarting = asyncio.ensure_future(restart_a())
        a = await reconnect(web_b.ws_url, alice, "alice-dev1", killed + 10)  # Alice to the survivor
        web_a2 = await restarting
        restarted = time.monotonic() - killed
        try:
            b = await reconnect(web_a2.ws_url, bob, "bob-dev01", killed + 20)  # Bob to the restarted A

            deadline = killed + 15
            got = await until_delivered(
                a, b, {"type": "call.candidates", "call_id": "call-k001", "candidates": [CAND]}, deadline
            )
            assert got["from"] == "alice@example.com"
            got = await until_delivered(
                b, a, {"type": "call.candidates", "call_id": "call-k001", "candidates": [CAND]}, deadline
            )
            assert got["from"] == "bob@example.com"
            both = time.monotonic() - killed
            print(
                f"\nSIGKILL of the home: restarted A listening after {restarted:.2f} s; both sides signal again after {both:.2f} s"
            )

            restart = {
                "type": "call.negotiate",
                "call_id": "call-k001",
                "sdp": "v=0 restart",
                "description_type": "offer",
            }
            await a.send(restart)
            assert (await b.recv_type("call.negotiate"))["sdp"] == "v=0 restart"
            await b.send({**restart, "description_type": "answer", "sdp": "v=0 restarted"})
            assert (await a.recv_type("call.negotiate"))["sdp"] == "v=0 restarted"
            await b.send({"type": "call.hangup", "call_id": "call-k001", "reason": "user_hangup"})
            assert (await a.recv_type("call.hangup"))["reason"] == "user_hangup"
            rows = await wait_for_log("call-k001")
            assert {(r.direction, r.end_reason, r.answered_at is not None) for r in rows} == {
                ("out", "user_hangup", True),
                ("in", "user_hangup", True),
            }
            await a.close()
            await b.close()
        finally:
            web_a2.stop()


async def test_the_survivors_party_is_hung_up_offline_when_the_other_party_dies_with_its_process(
    subprocess_env, people
):
    alice, bob = people
    grace_s = 3.0  # FAST_TIMERS
    with private_redis() as redis, daphnes(subprocess_env, 2, {"REDIS_URL": redis.url}) as (web_a, web_b):
        a = await Socket.authed(web_a.ws_url, await token(alice), "alice-dev1")
        b = await Socket.authed(web_b.ws_url, await token(bob), "bob-dev01")
        await place_call(a, b, "call-k002")  # home: web_a, the survivor

        web_b.proc.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        hangup = await a.recv_type("call.hangup", timeout=grace_s + LIVENESS_S + BEAT_S + 3)
        took = time.monotonic() - killed
        print(f"\nSIGKILL of the other party's process: call.hangup offline after {took:.2f} s (grace {grace_s} s)")
        assert hangup == {"type": "call.hangup", "call_id": "call-k002", "reason": "offline"}
        assert took >= grace_s
        rows = await wait_for_log("call-k002")
        assert {(r.direction, r.end_reason) for r in rows} == {("out", "offline"), ("in", "offline")}
        await a.close()


async def test_sigterm_closes_sockets_with_1012_and_the_call_continues_elsewhere(subprocess_env, people):
    alice, bob = people
    env = {"NUMFREE_SIGNALING_RECONNECT_GRACE_MS": "20000"}
    with private_redis() as redis, daphnes(subprocess_env, 2, {"REDIS_URL": redis.url, **env}) as (web_a, web_b):
        a = await Socket.authed(web_a.ws_url, await token(alice), "alice-dev1")
        b = await Socket.authed(web_b.ws_url, await token(bob), "bob-dev01")
        await place_call(a, b, "call-t001")  # home: web_a

        web_a.proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        assert await a.close_code(timeout=5) == 1012  # a close frame, not a dropped connection
        closed = time.monotonic() - stopped
        await asyncio.to_thread(web_a.proc.wait, 10)
        exited = time.monotonic() - stopped

        a = await reconnect(web_b.ws_url, alice, "alice-dev1", stopped + 10)
        deadline = stopped + 10
        frame = {"type": "call.candidates", "call_id": "call-t001", "candidates": [CAND]}
        assert (await until_delivered(a, b, frame, deadline))["from"] == "alice@example.com"
        assert (await until_delivered(b, a, frame, deadline))["from"] == "bob@example.com"
        print(
            f"\nSIGTERM: 1012 after {closed:.2f} s, exit after {exited:.2f} s, signaling again after {time.monotonic() - stopped:.2f} s"
        )
        await a.send({"type": "call.hangup", "call_id": "call-t001", "reason": "user_hangup"})
        assert (await b.recv_type("call.hangup"))["reason"] == "user_hangup"
        rows = await wait_for_log("call-t001")
        assert {r.end_reason for r in rows} == {"user_hangup"}
        await a.close()
        await b.close()
