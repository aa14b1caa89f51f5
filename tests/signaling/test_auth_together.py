"""Sockets that authenticate at the same moment (a reconnect storm) are read from the database
together: each still gets exactly its own answer, and a sign-in revoked a moment earlier is refused."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.models import SignIn
from accounts.tokens import issue_pair
from signaling import auth
from tests.conftest import make_user
from tests.signaling.conftest import befriend, open_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def _auth(token: str, device: str) -> tuple[str, object]:
    client = await open_socket()
    await client.send({"type": "auth", "token": token, "device_id": device})
    first = await client.recv()
    if first["type"] == "auth.ok":
        snapshot = await client.recv()
        await client.close()
        return "ok", snapshot["contacts"]
    message = await client.ws.receive_output(2)
    assert message["type"] == "websocket.close", message
    return first["code"], message["code"]


async def test_sockets_authenticating_at_once_each_get_their_own_answer(alice, bob, unverified):
    dave = await sync_to_async(make_user)("dave@example.com")
    erin = await sync_to_async(make_user)("erin@example.com")
    await sync_to_async(befriend)(alice, bob)
    await sync_to_async(befriend)(alice, dave)
    await sync_to_async(befriend)(alice, unverified)  # not verified: never anyone's contact
    alice_pair, bob_pair, revoked_pair = [await sync_to_async(issue_pair)(u) for u in (alice, bob, dave)]
    unverified_pair, disabled_pair = [await sync_to_async(issue_pair)(u) for u in (unverified, erin)]
    await sync_to_async(SignIn.objects.filter(pk=revoked_pair.sign_in.pk).update)(revoked_at=timezone.now())
    erin.is_active = False
    await sync_to_async(erin.save)()
    lookups = []
    original = auth._accounts

    def counting(keys):  # type: ignore[no-untyped-def]
        lookups.append(len(keys))
        return original(keys)

    auth._accounts = counting
    try:
        answers = await asyncio.gather(
            _auth(alice_pair.access, "device-a001"),
            _auth(bob_pair.access, "device-b001"),
            _auth(revoked_pair.access, "device-d001"),
            _auth(unverified_pair.access, "device-c001"),
            _auth(disabled_pair.access, "device-e001"),
            _auth("not.a.jwt", "device-x001"),
        )
    finally:
        auth._accounts = original
    assert answers[0][0] == "ok" and [c["email"] for c in answers[0][1]] == ["bob@example.com", "dave@example.com"]
    assert answers[1][0] == "ok" and [c["email"] for c in answers[1][1]] == ["alice@example.com"]
    assert answers[2] == ("token_revoked", 4401)
    assert answers[3] == ("email_unverified", 4403)
    assert answers[4] == ("account_disabled", 4403)
    assert answers[5] == ("token_invalid", 4401)
    assert sum(lookups) == 5 and len(lookups) < 5, lookups  # read together, not one hop per socket
