"""Real daphne processes: Origin refusal, close codes, and scale-out over a private Redis (restart included)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest
from asgiref.sync import sync_to_async

from accounts.tokens import issue_pair
from telephony.models import CallLog
from tests.conftest import make_user
from tests.signaling.conftest import befriend
from tests.signaling.processes import Socket, daphnes, private_redis

pytestmark = pytest.mark.django_db(transaction=True)

CAND = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.2 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


@pytest.fixture
def people(subprocess_env):  # type: ignore[no-untyped-def]
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    befriend(alice, bob)
    return alice, bob


async def token(user) -> str:  # type: ignore[no-untyped-def]
    return (await sync_to_async(issue_pair)(user)).access


async def test_daphne_refuses_foreign_origins_big_frames_late_auth_and_extra_devices(subprocess_env, people):
    import websockets

    alice, _ = people
    with daphnes(subprocess_env, 1) as (web,):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await Socket.open(web.ws_url, origin="https://evil.example")
        assert refused.value.response.status_code == 403

        big = await Socket.authed(web.ws_url, await token(alice), "device-big1")
        await big.ws.send(json.dumps({"type": "ping", "pad": "x" * 70_000}))
        assert await big.close_code() == 1009

        late = await Socket.open(web.ws_url)
        assert await late.close_code() == 4401

        old = await Socket.authed(web.ws_url, await token(alice), "device-same")
        new = await Socket.authed(web.ws_url, await token(alice), "device-same")
        assert await old.close_code() == 4408

        others = [await Socket.authed(web.ws_url, await token(alice), f"device-{n:04d}") for n in range(4)]
        sixth = await Socket.open(web.ws_url)
        await sixth.send({"type": "auth", "token": await token(alice), "device_id": "device-0006"})
        assert await sixth.close_code() == 4409
        for sock in [new, *others]:
            await sock.close()


async def wait_for_log(call_id: str, timeout: float = 5) -> list[CallLog]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = await sync_to_async(list)(CallLog.objects.filter(external_id=call_id, ended_at__isnull=False))
        if len(rows) == 2:
            return rows
        await asyncio.sleep(0.1)
    raise AssertionError("the call log was not written")


async def test_a_call_between_two_daphne_processes_over_redis(subprocess_env, people):
    alice, bob = people
    with private_redis() as redis, daphnes(subprocess_env, 2, {"REDIS_URL": redis.url}) as (web1, web2):
        a = await Socket.authed(web1.ws_url, await token(alice), "alice-dev1")
        b = await Socket.authed(web2.ws_url, await token(bob), "bob-dev01")
        assert await a.recv() == {"type": "presence.update", "email": "bob@example.com", "online": True}
        assert b.snapshot["contacts"] == [{"email": "alice@example.com", "online": True}]

        await a.send({"type": "call.invite", "call_id": "call-x001", "to": "bob@example.com", "sdp": "v=0 offer"})
        invite = await b.recv_type("call.invite")
        assert (invite["from"], invite["sdp"]) == ("alice@example.com", "v=0 offer")
        assert (await a.recv_type("call.status"))["status"] == "ringing"
        await a.send({"type": "call.candidates", "call_id": "call-x001", "candidates": [CAND]})
        await b.send({"type": "call.answer", "call_id": "call-x001", "sdp": "v=0 answer"})
        assert (await a.recv_type("call.answer"))["sdp"] == "v=0 answer"
        assert (await b.recv_type("call.candidates"))["candidates"] == [CAND]
        await b.send({"type": "call.candidates", "call_id": "call-x001", "candidates": [CAND]})
        assert (await a.recv_type("call.candidates"))["from"] == "bob@example.com"

        await asyncio.sleep(5.5)  # idle past redis-py's 5 s socket timeout (django/channels_redis#422)
        await b.send({"type": "ping", "id": "idle"})
        assert await b.recv_type("pong") == {"type": "pong", "id": "idle"}
        await a.send({"type": "call.candidates", "call_id": "call-x001", "candidates": [CAND]})
        assert (await b.recv_type("call.candidates"))["from"] == "alice@example.com"

        await b.send({"type": "call.hangup", "call_id": "call-x001", "reason": "user_hangup"})
        assert (await a.recv_type("call.hangup"))["reason"] == "user_hangup"
        rows = await wait_for_log("call-x001")
        assert {(r.direction, r.end_reason, r.missed) for r in rows} == {
            ("out", "user_hangup", False),
            ("in", "user_hangup", False),
        }

        # Revocation through one process closes the socket on the other.
        pair = await sync_to_async(issue_pair)(bob)
        b2 = await Socket.authed(web2.ws_url, pair.access, "bob-dev02")
        request = urllib.request.Request(
            f"{web1.http_url}/api/auth/logout/",
            data=json.dumps({"refresh": pair.refresh}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        started = time.monotonic()
        await asyncio.to_thread(urllib.request.urlopen, request, timeout=5)
        assert await b2.close_code(timeout=5) == 4401
        assert time.monotonic() - started < 5
        await a.close()
        await b.close()


async def test_redis_restarting_mid_call_reports_lost_frames_and_recovers(subprocess_env, people):
    alice, bob = people
    charlie = await sync_to_async(make_user)("charlie@example.com")
    await sync_to_async(befriend)(charlie, bob)
    with private_redis() as redis, daphnes(subprocess_env, 2, {"REDIS_URL": redis.url}) as (web1, web2):
        a = await Socket.authed(web1.ws_url, await token(alice), "alice-dev1")
        b = await Socket.authed(web2.ws_url, await token(bob), "bob-dev01")
        await a.send({"type": "call.invite", "call_id": "call-r001", "to": "bob@example.com", "sdp": "v=0 offer"})
        await b.recv_type("call.invite")
        await a.recv_type("call.status")
        await b.send({"type": "call.answer", "call_id": "call-r001", "sdp": "v=0 answer"})
        await a.recv_type("call.answer")

        redis.stop()
        await a.send({"type": "call.candidates", "call_id": "call-r001", "candidates": [CAND], "id": "lost"})
        error = await a.recv_type("error")
        assert (error["code"], error.get("id")) == ("not_delivered", "lost")
        await b.send({"type": "call.candidates", "call_id": "call-r001", "candidates": [CAND], "id": "lost2"})
        assert (await b.recv_type("error"))["code"] in {"not_delivered", "service_unavailable"}

        redis.start()  # empty: every process must put its presence back
        deadline = time.monotonic() + 10
        while True:
            c = await Socket.authed(web1.ws_url, await token(charlie), "charlie-d1")
            if c.snapshot["contacts"] == [{"email": "bob@example.com", "online": True}]:
                break
            await c.close()
            assert time.monotonic() < deadline, "presence did not come back within 10 s"
            await asyncio.sleep(0.3)
        await a.send({"type": "call.candidates", "call_id": "call-r001", "candidates": [CAND]})
        assert (await b.recv_type("call.candidates"))["from"] == "alice@example.com"
        for sock in (a, b, c):
            await sock.close()
