"""Connecting to /ws/signaling/: origin, first-frame auth, close codes, devices, rate limits, schema."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts.models import SignIn
from tests.signaling.conftest import connect, open_socket, token_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_foreign_origin_is_refused_at_the_handshake():
    from numfree.asgi import application

    for origin in (b"https://evil.example", b"chrome-extension://notours"):
        ws = WebsocketCommunicator(application, "/ws/signaling/", headers=[(b"origin", origin)])
        connected, _ = await ws.connect()
        assert not connected
    ws = WebsocketCommunicator(application, "/ws/signaling/")
    assert not (await ws.connect())[0]


async def test_the_extension_origin_is_accepted(settings, alice):
    client = await open_socket(f"chrome-extension://{settings.NUMFREE_EXTENSION_IDS[0]}")
    await client.send({"type": "auth", "token": await token_for(alice), "device_id": "device-0001"})
    assert (await client.recv())["type"] == "auth.ok"
    await client.close()


async def test_auth_answers_auth_ok_then_a_presence_snapshot(alice):
    client = await connect(alice)
    assert client.snapshot == {"type": "presence.snapshot", "contacts": []}
    await client.close()


async def test_no_auth_frame_within_the_window_closes_with_4401():
    client = await open_socket()
    error = await client.closed_with(4401)
    assert error["code"] == "not_authenticated"


async def test_a_first_frame_that_is_not_auth_closes_with_4401():
    client = await open_socket()
    await client.send({"type": "ping"})
    assert (await client.closed_with(4401))["code"] == "not_authenticated"


async def test_a_bad_token_closes_with_4401(alice):
    client = await open_socket()
    await client.send({"type": "auth", "token": "not.a.jwt", "device_id": "device-0001"})
    assert (await client.closed_with(4401))["code"] == "token_invalid"


async def test_a_revoked_sign_in_cannot_connect_with_its_unexpired_token(alice):
    token = await token_for(alice)
    await sync_to_async(SignIn.objects.filter(user=alice).update)(revoked_at=timezone.now())
    client = await open_socket()
    await client.send({"type": "auth", "token": token, "device_id": "device-0001"})
    assert (await client.closed_with(4401))["code"] == "token_revoked"


async def test_a_disabled_account_closes_with_4403(alice):
    token = await token_for(alice)
    alice.is_active = False
    await sync_to_async(alice.save)()
    client = await open_socket()
    await client.send({"type": "auth", "token": token, "device_id": "device-0001"})
    assert (await client.closed_with(4403))["code"] == "account_disabled"


async def test_an_unverified_account_closes_with_4403(unverified):
    client = await open_socket()
    await client.send({"type": "auth", "token": await token_for(unverified), "device_id": "device-0001"})
    assert (await client.closed_with(4403))["code"] == "email_unverified"


async def test_a_malformed_device_id_is_refused(alice):
    client = await open_socket()
    await client.send({"type": "auth", "token": await token_for(alice), "device_id": "short"})
    assert (await client.closed_with(4401))["code"] == "not_authenticated"


async def test_a_newer_socket_with_the_same_device_id_replaces_the_older_with_4408(alice):
    old = await connect(alice, "device-same")
    new = await connect(alice, "device-same")
    assert (await old.closed_with(4408))["code"] == "replaced"
    await new.send({"type": "ping", "id": "p"})
    assert await new.recv() == {"type": "pong", "id": "p"}
    await new.close()


async def test_a_sixth_device_is_refused_with_4409(alice):
    devices = [await connect(alice, f"device-{n:04d}") for n in range(5)]
    sixth = await open_socket()
    await sixth.send({"type": "auth", "token": await token_for(alice), "device_id": "device-0006"})
    assert (await sixth.closed_with(4409))["code"] == "too_many_devices"
    for device in devices:
        await device.close()


async def test_ping_is_answered_with_pong_echoing_the_id(alice):
    client = await connect(alice)
    await client.send({"type": "ping", "id": "x" * 64})
    assert await client.recv() == {"type": "pong", "id": "x" * 64}
    await client.send({"type": "ping"})
    assert await client.recv() == {"type": "pong"}
    await client.close()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "invalid_json"),
        ({"type": "nope"}, "unknown_type"),
        ({"no": "type"}, "unknown_type"),
        ({"type": "ping", "id": "y" * 65}, "invalid_frame"),
        ({"type": "ping", "extra": 1}, "invalid_frame"),
        ({"type": "call.invite", "call_id": "call-0001", "to": "b@example.com"}, "invalid_frame"),
        ({"type": "call.invite", "call_id": "bad id!", "to": "b@example.com", "sdp": "v=0"}, "invalid_frame"),
        ({"type": "call.candidates", "call_id": "call-0001", "candidates": []}, "invalid_frame"),
        ({"type": "call.candidates", "call_id": "call-0001", "candidates": [{"candidate": "c"}] * 51}, "invalid_frame"),
        ({"type": "call.candidates", "call_id": "call-0001", "candidates": [{"sdpMid": "0"}]}, "invalid_frame"),
        (
            {"type": "call.negotiate", "call_id": "call-0001", "sdp": "v=0", "description_type": "pranswer"},
            "invalid_frame",
        ),
        ({"type": "call.hangup", "call_id": "call-0001", "reason": "bored"}, "invalid_frame"),
        ({"type": "auth", "token": "t", "device_id": "device-0001"}, "already_authenticated"),
    ],
)
async def test_an_invalid_frame_gets_an_error_and_the_connection_stays(alice, frame, code):
    client = await connect(alice)
    await client.send({**frame, "id": "f1"} if isinstance(frame, dict) and "id" not in frame else frame)
    error = await client.recv()
    assert error["type"] == "error" and error["code"] == code, error
    assert error["message"]
    await client.send({"type": "ping", "id": "still"})
    assert await client.recv() == {"type": "pong", "id": "still"}
    await client.close()


async def test_a_binary_frame_gets_invalid_json(alice):
    client = await connect(alice)
    await client.ws.send_to(bytes_data=b"\x00\x01")
    assert (await client.recv())["code"] == "invalid_json"
    await client.close()


async def test_too_many_frames_get_rate_limited_then_closed_with_4429(settings, alice):
    settings.SIGNALING_RATE_BURST = 5
    settings.SIGNALING_RATE_PER_SECOND = 1
    settings.SIGNALING_RATE_STRIKES = 3
    client = await connect(alice)  # the auth frame took one of the five
    for _ in range(4 + 4):  # and 4 more: what 4 s of lag allowance at 1/s lends (signaling/frame_limiter.py)
        await client.send({"type": "ping"})
        assert (await client.recv())["type"] == "pong"
    await client.send({"type": "ping"})
    assert (await client.recv())["code"] == "rate_limited"
    for _ in range(4):
        await client.send({"type": "ping"})
    assert (await client.closed_with(4429))["code"] == "rate_limited"


async def test_two_sockets_of_one_user_do_not_share_state(alice, bob):
    first, second = await connect(alice, "device-aaaa"), await connect(alice, "device-bbbb")
    await first.send({"type": "ping", "id": "1"})
    assert await first.recv() == {"type": "pong", "id": "1"}
    assert await second.silent()
    await asyncio.gather(first.close(), second.close())


async def test_eight_new_devices_signing_in_at_once_get_five_sockets_and_three_refusals(alice, monkeypatch):
    """The device limit is one atomic claim: with a store slow to answer, a count read before
    any of them was written let all eight in."""
    from signaling.hub import get_hub

    store = (await get_hub()).store
    read_devices = store.devices

    async def slow_devices(user_id: int) -> dict[str, str]:
        devices = await read_devices(user_id)
        await asyncio.sleep(0.2)
        return devices

    monkeypatch.setattr(store, "devices", slow_devices)
    token = await token_for(alice)
    sockets = [await open_socket() for _ in range(8)]
    await asyncio.gather(
        *(s.send({"type": "auth", "token": token, "device_id": f"device-{n:04d}"}) for n, s in enumerate(sockets))
    )

    async def outcome(socket) -> str:  # type: ignore[no-untyped-def]
        message = await socket.ws.receive_output(5)
        if message["type"] == "websocket.send" and json.loads(message["text"])["type"] == "auth.ok":
            return "ok"
        while message["type"] != "websocket.close":
            message = await socket.ws.receive_output(5)
        return str(message.get("code"))

    outcomes = await asyncio.gather(*(outcome(s) for s in sockets))
    assert sorted(outcomes) == ["4409"] * 3 + ["ok"] * 5
    for socket, result in zip(sockets, outcomes, strict=True):
        if result == "ok":
            await socket.close()
