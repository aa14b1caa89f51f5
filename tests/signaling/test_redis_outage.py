"""A Redis outage seen by a real daphne process: a sign-in is closed with 4503 ("retry soon"),
an invite gets an answer and leaves no ghost socket, and the lost subscription is logged once."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async

from accounts.tokens import issue_pair
from tests.conftest import make_user
from tests.signaling.conftest import befriend
from tests.signaling.processes import Daphne, Socket, daphnes, private_redis

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(subprocess_env):  # type: ignore[no-untyped-def]
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    befriend(alice, bob)
    return alice, bob


async def token(user) -> str:  # type: ignore[no-untyped-def]
    return (await sync_to_async(issue_pair)(user)).access


def log_of(web: Daphne) -> str:
    return web.log.read_text(errors="replace")


async def wait_until(condition, what: str, timeout: float = 10) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_a_sign_in_while_redis_is_down_is_closed_with_4503_so_the_client_retries(subprocess_env, people):
    alice, _ = people
    with private_redis() as redis, daphnes(subprocess_env, 1, {"REDIS_URL": redis.url}) as (web,):
        first = await Socket.authed(web.ws_url, await token(alice), "alice-dev1")
        await first.close()
        redis.stop()

        sock = await Socket.open(web.ws_url)
        await sock.send({"type": "auth", "token": await token(alice), "device_id": "alice-dev2"})
        assert (await sock.recv_type("error"))["code"] == "service_unavailable"
        assert await sock.close_code(timeout=5) == 4503


async def test_an_invite_while_redis_is_down_is_answered_and_its_socket_leaves_cleanly(subprocess_env, people):
    alice, bob = people
    with private_redis() as redis, daphnes(subprocess_env, 1, {"REDIS_URL": redis.url}) as (web,):
        a = await Socket.authed(web.ws_url, await token(alice), "alice-dev1")
        b = await Socket.authed(web.ws_url, await token(bob), "bob-dev01")
        redis.stop()
        await a.send({"type": "call.invite", "call_id": "call-o001", "to": "bob@example.com", "sdp": "v=0", "id": "i"})
        error = await a.recv_type("error")
        assert (error["code"], error["id"]) == ("service_unavailable", "i")
        await a.send({"type": "ping", "id": "still-open"})
        assert await a.recv_type("pong") == {"type": "pong", "id": "still-open"}
        await a.close()
        await b.close()

        redis.start()
        # Alice left during the outage: once her presence entry lapses (TTL 1.5 s here) she is offline.
        await asyncio.sleep(2)
        b2 = await Socket.authed(web.ws_url, await token(bob), "bob-dev02")
        assert b2.snapshot["contacts"] == [{"email": "alice@example.com", "online": False}]
        await b2.close()
        assert "Traceback" not in log_of(web)


async def test_a_lost_redis_subscription_is_logged_once_per_outage_and_relay_comes_back(subprocess_env, people):
    alice, bob = people
    with private_redis() as redis, daphnes(subprocess_env, 2, {"REDIS_URL": redis.url}) as (web1, web2):
        for web, user, device in ((web1, alice, "alice-dev1"), (web2, bob, "bob-dev01")):
            await (await Socket.authed(web.ws_url, await token(user), device)).close()

        redis.stop()
        await asyncio.sleep(4)
        redis.start()
        back = await wait_until(
            lambda: all("reconnected to Redis" in log_of(web) for web in (web1, web2)), "both to resubscribe"
        )

        for web in (web1, web2):
            assert log_of(web).count("Redis subscription lost") == 1, log_of(web)
        assert back < 1.5
        a = await Socket.authed(web1.ws_url, await token(alice), "alice-dev1")
        b = await Socket.authed(web2.ws_url, await token(bob), "bob-dev01")
        assert b.snapshot["contacts"] == [{"email": "alice@example.com", "online": True}]
        await a.close()
        await b.close()
