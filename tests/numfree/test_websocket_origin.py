"""The WebSocket handshake admits only NumFree's own origin and extension ids."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator

from numfree.asgi import application

# Channels closes stale database connections around each consumer.
pytestmark = pytest.mark.django_db


async def handshake(origin: bytes | None) -> bool:
    headers = [(b"origin", origin)] if origin is not None else []
    communicator = WebsocketCommunicator(application, "/ws/signaling/", headers=headers)
    connected, _ = await communicator.connect(timeout=3)
    await communicator.disconnect()
    return connected


@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.example",
        b"http://127.0.0.1:8001",  # same host, other port
        b"https://127.0.0.1:8000",  # same host, other scheme
        b"chrome-extension://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",  # an extension we do not know
        b"null",
        None,
    ],
)
async def test_a_handshake_from_another_origin_is_refused(origin):
    assert await handshake(origin) is False


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:8000", b"chrome-extension://%s"])
async def test_a_handshake_from_the_site_or_a_known_extension_is_accepted(origin, settings):
    if b"%s" in origin:
        origin = origin % settings.NUMFREE_EXTENSION_IDS[0].encode()
    assert await handshake(origin) is True
