"""Signaling test helpers: sockets through the full ASGI app, mutual contacts, timers in milliseconds."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections

from accounts.tokens import issue_pair
from signaling import hub as hub_module
from signaling.models import Contact
from signaling.state_store import reset_store

ORIGIN = settings.PUBLIC_ORIGIN


@pytest.fixture(autouse=True)
def _fast_signaling(settings):  # type: ignore[no-untyped-def]
    settings.SIGNALING_AUTH_TIMEOUT_MS = 300
    settings.SIGNALING_INVITE_LIFETIME_MS = 400
    settings.SIGNALING_RECONNECT_GRACE_MS = 300
    settings.SIGNALING_PRESENCE_TTL_MS = 600
    reset_store()
    channel_layers.backends.pop("signaling", None)
    hub_module._hubs.clear()
    yield
    reset_store()
    hub_module._hubs.clear()


@pytest.fixture(autouse=True)
async def _close_connections_of_the_sync_thread():  # type: ignore[no-untyped-def]
    """Consumers reach the database from asgiref's one sync thread; leave no
    connection open there, or Channels' close_old_connections() in the next
    (database-less) test trips pytest-django's database blocker."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
async def _stop_background_tasks():  # type: ignore[no-untyped-def]
    """Cancel what the test left running (hubs' loops, layer pumps), again and again for up to
    5 s: the event loop's own shutdown cancels once and then waits for ever, so one loop that
    takes a cancellation for a Redis error would hang the test's teardown."""
    yield
    me = asyncio.current_task()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if not left:
            return
        for task in left:
            task.cancel()
        await asyncio.wait(left, timeout=0.2)


def befriend(a: Any, b: Any) -> None:
    Contact.mutual_between(a, b)


class Client:
    """One device's socket, speaking JSON."""

    def __init__(self, communicator: WebsocketCommunicator, email: str = "") -> None:
        self.ws = communicator
        self.email = email

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 2) -> dict[str, Any]:
        return json.loads(await self.ws.receive_from(timeout))

    async def recv_type(self, kind: str, timeout: float = 2) -> dict[str, Any]:
        """The next frame of this type, skipping presence chatter."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == kind:
                return frame
            if not frame["type"].startswith("presence."):
                raise AssertionError(f"expected {kind}, got {frame}")

    async def recv_any(self, timeout: float = 2) -> dict[str, Any]:
        """The next frame that is not presence chatter."""
        while True:
            frame = await self.recv(timeout)
            if not frame["type"].startswith("presence."):
                return frame

    async def silent(self, timeout: float = 0.15) -> bool:
        """Nothing but presence chatter arrives within the timeout."""
        while not await self.ws.receive_nothing(timeout):
            frame = await self.recv()
            if not frame["type"].startswith("presence."):
                self.unexpected = frame
                return False
        return True

    async def closed_with(self, code: int, timeout: float = 2) -> dict[str, Any] | None:
        """The error frame (if any) before the close, asserting the close code."""
        error = None
        while True:
            message = await self.ws.receive_output(timeout)
            if message["type"] == "websocket.close":
                assert message.get("code") == code, message
                return error
            if message["type"] == "websocket.send":
                error = json.loads(message["text"])

    async def close(self) -> None:
        await self.ws.disconnect()


async def open_socket(origin: str = ORIGIN) -> Client:
    from numfree.asgi import application

    ws = WebsocketCommunicator(application, "/ws/signaling/", headers=[(b"origin", origin.encode())])
    connected, _ = await ws.connect()
    assert connected
    return Client(ws)


async def token_for(user: Any) -> str:
    return (await sync_to_async(issue_pair)(user)).access


async def connect(user: Any, device: str = "device-0001", token: str | None = None) -> Client:
    client = await open_socket()
    client.email = user.email
    await client.send({"type": "auth", "token": token or await token_for(user), "device_id": device, "id": "a1"})
    ok = await client.recv()
    assert ok == {"type": "auth.ok", "email": user.email, "id": "a1"}, ok
    snapshot = await client.recv()
    assert snapshot["type"] == "presence.snapshot"
    client.snapshot = snapshot  # type: ignore[attr-defined]
    return client


async def call_log_written() -> None:
    from signaling.hub import get_hub

    await (await get_hub()).call_log_written()
