"""Presence for mutual contacts only, pushes on contact changes, revocation closing sockets, ICE servers."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import SignIn
from accounts.tokens import issue_pair
from signaling.revocation import close_sockets
from signaling.state_store import get_store
from tests.conftest import make_user
from tests.signaling.conftest import befriend, connect, token_for

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_snapshot_lists_mutual_contacts_with_their_online_state(alice, bob):
    await sync_to_async(befriend)(alice, bob)
    await sync_to_async(make_user)("stranger@example.com")
    b = await connect(bob, "bob-dev01")
    a = await connect(alice, "alice-dev1")
    assert a.snapshot == {"type": "presence.snapshot", "contacts": [{"email": "bob@example.com", "online": True}]}
    assert await b.recv() == {"type": "presence.update", "email": "alice@example.com", "online": True}
    await a.close()
    assert await b.recv() == {"type": "presence.update", "email": "alice@example.com", "online": False}
    await b.close()


async def test_a_user_stays_online_while_any_device_is_connected(alice, bob):
    await sync_to_async(befriend)(alice, bob)
    b = await connect(bob, "bob-dev01")
    a1, a2 = await connect(alice, "alice-dev1"), await connect(alice, "alice-dev2")
    assert (await b.recv())["online"] is True
    await a1.close()
    assert await b.silent(0.3)
    await a2.close()
    assert (await b.recv())["online"] is False
    await b.close()


async def test_non_contacts_see_nothing(alice, bob):
    b = await connect(bob, "bob-dev01")
    a = await connect(alice, "alice-dev1")
    assert a.snapshot["contacts"] == []
    assert await b.silent(0.3)
    await a.close()
    await b.close()


async def test_accepting_a_contact_pushes_a_fresh_snapshot_to_both(alice, bob):
    a = await connect(alice, "alice-dev1")
    b = await connect(bob, "bob-dev01")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {await token_for(alice)}")
    asked = (await sync_to_async(api.post)("/api/contacts/", {"email": "bob@example.com"}, format="json")).json()
    assert (await a.recv())["contacts"] == []
    assert (await b.recv())["contacts"] == []
    api_b = APIClient()
    api_b.credentials(HTTP_AUTHORIZATION=f"Bearer {await token_for(bob)}")
    await sync_to_async(api_b.post)(f"/api/contacts/{asked['id']}/accept/")
    assert await a.recv() == {"type": "presence.snapshot", "contacts": [{"email": "bob@example.com", "online": True}]}
    assert await b.recv() == {"type": "presence.snapshot", "contacts": [{"email": "alice@example.com", "online": True}]}
    await a.close()
    await b.close()


async def test_stale_presence_of_a_dead_process_expires_by_ttl(alice, bob):
    await sync_to_async(befriend)(alice, bob)
    # A device registered by a process that died without saying goodbye.
    await get_store().add_device(bob.pk, "ghost-device", "numfree.signal.p.dead!1", 0)
    a = await connect(alice, "alice-dev1")
    assert a.snapshot["contacts"] == [{"email": "bob@example.com", "online": False}]
    await a.close()


async def test_revoking_a_sign_in_closes_its_sockets_with_4401_and_spares_others(alice):
    first, second = await sync_to_async(issue_pair)(alice), await sync_to_async(issue_pair)(alice)
    a1 = await connect(alice, "alice-dev1", token=first.access)
    a2 = await connect(alice, "alice-dev2", token=second.access)
    await sync_to_async(SignIn.objects.filter(pk=first.sign_in.pk).update)(revoked_at=timezone.now())
    await sync_to_async(close_sockets)(alice.pk, [str(first.sign_in.pk)])
    assert (await a1.closed_with(4401))["code"] == "token_revoked"
    await a2.send({"type": "ping"})
    assert (await a2.recv_type("pong"))["type"] == "pong"
    await a2.close()


async def test_disabling_an_account_closes_every_socket_with_4403(alice):
    a1, a2 = await connect(alice, "alice-dev1"), await connect(alice, "alice-dev2")
    await sync_to_async(close_sockets)(alice.pk, None, disabled=True)
    assert (await a1.closed_with(4403))["code"] == "account_disabled"
    assert (await a2.closed_with(4403))["code"] == "account_disabled"


async def test_logging_out_through_the_api_closes_that_sign_ins_socket(alice):
    pair = await sync_to_async(issue_pair)(alice)
    a = await connect(alice, "alice-dev1", token=pair.access)
    response = await sync_to_async(APIClient().post)("/api/auth/logout/", {"refresh": pair.refresh}, format="json")
    assert response.status_code in (200, 204), response.content
    assert (await a.closed_with(4401))["code"] == "token_revoked"


def test_ice_servers_default_to_no_third_party_servers(alice):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(alice).access}")
    assert api.get("/api/signaling/ice-servers/").json() == {"iceServers": [], "iceTransportPolicy": "all"}
    assert APIClient().get("/api/signaling/ice-servers/").status_code == 401


def test_turn_credentials_follow_the_turn_rest_scheme(alice, settings):
    import base64
    import hashlib
    import hmac
    import time

    settings.SIGNALING_STUN_URLS = ["stun:turn.numfree.example:3478"]
    settings.SIGNALING_TURN_URLS = ["turn:turn.numfree.example:3478?transport=udp"]
    settings.SIGNALING_TURN_SECRET = "s3cret"
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_pair(alice).access}")
    config = api.get("/api/signaling/ice-servers/").json()
    stun, turn = config["iceServers"]
    assert stun == {"urls": ["stun:turn.numfree.example:3478"]}
    expiry, _, opaque = turn["username"].partition(":")
    assert int(expiry) - time.time() == pytest.approx(3600, abs=5)
    assert "alice" not in turn["username"] and opaque
    expected = base64.b64encode(hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()).decode()
    assert turn["credential"] == expected
