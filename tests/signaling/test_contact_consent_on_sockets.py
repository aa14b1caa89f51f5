"""Consent on the socket: presence and call invites follow the one "is mutual" rule (issue #10)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from rest_framework.test import APIClient

from signaling.layers import Undeliverable
from tests.signaling.conftest import befriend, connect, token_for

pytestmark = pytest.mark.django_db(transaction=True)

SDP_OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AA\r\n"


async def api_as(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {await token_for(user)}")
    return client


async def post(client: APIClient, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
    response = await sync_to_async(client.post)(path, data or {}, format="json")
    assert response.status_code in (200, 201, 204), response.content
    return response.json() if response.content else {}


async def test_asking_blocking_your_own_request_and_asking_again_shows_no_presence_and_cannot_ring(alice, bob):
    # Mallory (alice) and Carol (bob) are both online while Mallory tries the three steps.
    mallory, carol = await connect(alice, "mallory-01"), await connect(bob, "carol-0001")
    api = await api_as(alice)
    asked = await post(api, "/api/contacts/", {"email": "bob@example.com"})
    await post(api, f"/api/contacts/{asked['id']}/block/")
    await post(api, "/api/contacts/", {"email": "bob@example.com"})
    for _ in range(3):  # one fresh snapshot per change, to each of them
        assert (await mallory.recv_type("presence.snapshot"))["contacts"] == []
        assert (await carol.recv_type("presence.snapshot"))["contacts"] == []
    await mallory.send({"type": "call.invite", "call_id": "call-mallory", "to": "bob@example.com", "sdp": SDP_OFFER})
    assert (await mallory.recv_type("error"))["code"] == "not_a_contact"
    assert await carol.silent()
    await mallory.close()
    await carol.close()


async def test_a_blocked_contact_cannot_ring_even_if_the_push_to_their_socket_was_lost(alice, bob, monkeypatch):
    await sync_to_async(befriend)(alice, bob)
    b, a = await connect(bob, "bob-dev01"), await connect(alice, "alice-dev1")
    assert a.snapshot["contacts"] == [{"email": "bob@example.com", "online": True}]
    api_bob = await api_as(bob)
    [contact] = (await sync_to_async(api_bob.get)("/api/contacts/")).json()
    layer = get_channel_layer("signaling")

    async def redis_is_down(group: str, message: dict[str, Any]) -> None:
        raise Undeliverable(group)

    with monkeypatch.context() as down:
        down.setattr(layer, "group_send", redis_is_down)
        await post(api_bob, f"/api/contacts/{contact['id']}/block/")
    await a.send({"type": "call.invite", "call_id": "call-stale1", "to": "bob@example.com", "sdp": SDP_OFFER})
    assert (await a.recv_type("error"))["code"] == "not_a_contact"
    assert await b.silent()
    await a.close()
    await b.close()


async def test_lifting_a_block_restores_presence_only_after_the_other_person_accepts(alice, bob):
    api_alice, api_bob = await api_as(alice), await api_as(bob)
    asked = await post(api_alice, "/api/contacts/", {"email": "bob@example.com"})
    await post(api_bob, f"/api/contacts/{asked['id']}/accept/")
    await post(api_bob, f"/api/contacts/{asked['id']}/block/")
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    assert a.snapshot["contacts"] == b.snapshot["contacts"] == []
    lifted = await post(api_bob, "/api/contacts/", {"email": "alice@example.com"})
    assert lifted["status"] == "outgoing"
    assert (await a.recv_type("presence.snapshot"))["contacts"] == []
    assert (await b.recv_type("presence.snapshot"))["contacts"] == []
    await post(api_alice, f"/api/contacts/{lifted['id']}/accept/")
    assert (await a.recv_type("presence.snapshot"))["contacts"] == [{"email": "bob@example.com", "online": True}]
    assert (await b.recv_type("presence.snapshot"))["contacts"] == [{"email": "alice@example.com", "online": True}]
    await a.close()
    await b.close()
