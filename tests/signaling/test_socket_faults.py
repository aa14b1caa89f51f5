"""A fault at any await of a socket's handlers never leaves a ghost socket behind.

The test runs one scenario (two users sign in, one calls, the other answers,
a candidate, a hangup, both leave) once to count the awaited calls into the
store, the channel layer, the hub, the call registry, the database and the
transport, then once per call with that call failing. After each run the
hub must hold no socket and the layer no channel: a socket left registered
keeps its user online and takes invites into a dead socket. A Redis-shaped
fault (StoreUnavailable, Undeliverable) must not even end the socket with 1011.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from signaling import consumers
from signaling.calls import CallRegistry
from signaling.hub import Hub, get_hub
from signaling.layers import LocalChannelLayer, RedisBridgeLayer, Undeliverable
from signaling.state_store import MemoryStore, RedisStore, StoreUnavailable
from tests.signaling.conftest import befriend, open_socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)

SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CAND = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.2 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


class InjectedFault(RuntimeError):
    """A bug-shaped failure: nothing in the code expects it."""


class Injector:
    """Counts awaited calls to the wrapped functions and makes the `fail_at`-th one raise."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.fail_at: int | None = None
        self.kind = "redis"

    def fault_for(self, name: str) -> Exception:
        if self.kind == "bug":
            return InjectedFault(name)
        if name.startswith(("MemoryStore.", "RedisStore.")):
            return StoreUnavailable("ConnectionError")
        if name.startswith(("LocalChannelLayer.", "RedisBridgeLayer.")):
            return Undeliverable(name)
        return InjectedFault(name)  # the database, the transport, the hub or a call handler

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if self.fail_at is not None and len(self.calls) == self.fail_at:
                raise self.fault_for(name)
            return await fn(*args, **kwargs)

        return wrapped


# Redis-backed in production: the store and the layer. A Redis outage surfaces as these raising.
# (With REDIS_URL set the Redis classes are in use: their own methods are wrapped too.)
STORE_METHODS = [
    "add_device",
    "remove_device",
    "devices",
    "online",
    "set_home",
    "home",
    "forget_call",
    "add_device_call",
    "calls_of_device",
    "pend",
    "unpend",
]
REDIS_SHAPED = {
    MemoryStore: STORE_METHODS,
    RedisStore: STORE_METHODS,
    LocalChannelLayer: ["deliver", "group_add", "group_send"],
    RedisBridgeLayer: ["deliver", "group_add", "group_send"],
}
OTHERS = {
    Hub: ["deliver", "control", "to_registry"],
    CallRegistry: ["handle"],
    consumers.SignalingConsumer: ["send", "write"],
}
FUNCTIONS = ["authenticate", "load_contacts"]


@pytest.fixture
def injector(monkeypatch, settings) -> Iterator[Injector]:  # type: ignore[no-untyped-def]
    settings.SIGNALING_PRESENCE_TTL_MS = 60_000  # no upkeep task calls in the middle of the count
    settings.SIGNALING_INVITE_LIFETIME_MS = 60_000
    settings.SIGNALING_AUTH_TIMEOUT_MS = 60_000
    inj = Injector()
    for cls, names in {**REDIS_SHAPED, **OTHERS}.items():
        for name in names:
            monkeypatch.setattr(cls, name, inj.wrap(f"{cls.__name__}.{name}", getattr(cls, name)))
    for name in FUNCTIONS:
        monkeypatch.setattr(consumers, name, inj.wrap(name, getattr(consumers, name)))
    real_is_mutual = consumers.is_mutual_contact
    monkeypatch.setattr(consumers, "is_mutual_contact", lambda a, b: real_is_mutual(a, b))
    yield inj


class Peer:
    """A socket that never blocks the scenario: it reads whatever comes, and notes how the socket ended."""

    def __init__(self, ws: WebsocketCommunicator) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.crashed: BaseException | None = None

    async def send(self, frame: dict[str, Any]) -> None:
        if self.close_code is None and self.crashed is None:
            try:
                await self.ws.send_to(text_data=json.dumps(frame))
            except Exception as exc:  # the application had already raised
                self.crashed = exc

    async def drain(self) -> None:
        while self.close_code is None and self.crashed is None:
            try:
                if await self.ws.receive_nothing(0.03):
                    return
                message = await self.ws.receive_output(1)
            except Exception as exc:  # the application raised
                self.crashed = exc
                return
            if message["type"] == "websocket.close":
                self.close_code = message.get("code", 1000)
            elif message["type"] == "websocket.send":
                self.frames.append(json.loads(message["text"]))

    async def leave(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.disconnect()
        if self.ws.future.done() and not self.ws.future.cancelled() and self.ws.future.exception():
            self.crashed = self.crashed or self.ws.future.exception()


async def scenario(alice: Any, bob: Any) -> list[Peer]:
    tokens = [await token_for(alice), await token_for(bob)]
    a, b = Peer((await open_socket()).ws), Peer((await open_socket()).ws)
    peers = [a, b]

    async def step(peer: Peer, frame: dict[str, Any]) -> None:
        await peer.send(frame)
        for p in peers:
            await p.drain()

    await step(a, {"type": "auth", "token": tokens[0], "device_id": "alice-dev1"})
    await step(b, {"type": "auth", "token": tokens[1], "device_id": "bob-dev01"})
    await step(a, {"type": "call.invite", "call_id": "call-0001", "to": "bob@example.com", "sdp": SDP})
    await step(b, {"type": "call.answer", "call_id": "call-0001", "sdp": SDP})
    await step(a, {"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
    await step(b, {"type": "call.hangup", "call_id": "call-0001", "reason": "user_hangup"})
    for peer in peers:
        await peer.leave()
    return peers


async def left_nothing_behind() -> tuple[dict, dict, list[str]]:
    hub = await get_hub()
    await asyncio.sleep(0.05)  # a drainer task finishing its last message
    sinks = list(hub.layer._sinks)
    return dict(hub.consumers), dict(hub.by_user), sinks


async def fresh_hub() -> None:
    from channels.layers import channel_layers
    from django.conf import settings

    from signaling import hub as hub_module
    from signaling.state_store import reset_store

    if settings.REDIS_URL:  # the last run's presence, calls and invites
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(settings.REDIS_URL)
        keys = [key async for key in client.scan_iter("numfree.signal.*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
    reset_store()
    channel_layers.backends.pop("signaling", None)
    hub_module._hubs.clear()


@pytest.fixture
def friends(alice, bob):  # type: ignore[no-untyped-def]
    befriend(alice, bob)
    return alice, bob


async def test_the_scenario_without_faults_is_a_whole_call(friends, injector):
    await fresh_hub()
    a, b = await scenario(*friends)

    assert [f["type"] for f in b.frames if f["type"] in ("call.invite", "call.candidates", "call.hangup")] == [
        "call.invite",
        "call.candidates",
    ]
    assert any(f["type"] == "call.answer" for f in a.frames) and any(f["type"] == "call.hangup" for f in a.frames)
    assert (a.crashed, b.crashed) == (None, None)
    assert await left_nothing_behind() == ({}, {}, [])
    assert len(injector.calls) > 20


@pytest.mark.parametrize("kind", ["redis", "bug"])
async def test_a_fault_at_any_await_leaves_no_socket_registered(friends, injector, kind):
    await fresh_hub()
    await scenario(*friends)
    total = len(injector.calls)
    injector.kind = kind
    failures = []
    for n in range(1, total + 1):
        await fresh_hub()
        injector.calls, injector.fail_at = [], n
        peers = await scenario(*friends)
        where = injector.calls[n - 1] if len(injector.calls) >= n else "(not reached)"
        left = await left_nothing_behind()
        if left != ({}, {}, []):
            failures.append(f"fault {n} at {where}: left {left}")
        redis_shaped = kind == "redis" and where.split(".")[0] in {cls.__name__ for cls in REDIS_SHAPED}
        if redis_shaped and any(p.crashed or p.close_code == 1011 for p in peers):
            failures.append(f"fault {n} at {where}: a Redis fault ended a socket with 1011")
    assert failures == []
