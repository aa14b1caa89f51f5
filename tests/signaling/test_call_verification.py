"""The verification code's frames (docs/extension.md): the server passes the caller's commitment,
the callee's nonce and the caller's reveal between the two parties of a live call, untouched,
and refuses anything malformed. It never needs to understand them."""

from __future__ import annotations

import hashlib

import pytest
from asgiref.sync import sync_to_async

from tests.conftest import make_user
from tests.signaling.conftest import befriend, connect
from tests.signaling.test_calls import SDP_ANSWER, SDP_OFFER

pytestmark = pytest.mark.django_db(transaction=True)

COMMITMENT = hashlib.sha256(b"numfree-sas-commit-v1").hexdigest()
NONCE_B = "b" * 64
NONCE_A = "a1" * 32


@pytest.fixture
def friends(alice, bob):  # type: ignore[no-untyped-def]
    befriend(alice, bob)
    return alice, bob


async def verified_call(alice, bob):  # type: ignore[no-untyped-def]
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    invite = {"type": "call.invite", "call_id": "call-0001", "to": "bob@example.com", "sdp": SDP_OFFER}
    await a.send({**invite, "sas_commitment": COMMITMENT})
    ringing = await b.recv_type("call.invite")
    await a.recv_type("call.status")
    await b.send({"type": "call.answer", "call_id": "call-0001", "sdp": SDP_ANSWER, "sas_nonce": NONCE_B})
    answer = await a.recv_type("call.answer")
    return a, b, ringing, answer


async def test_the_callers_commitment_reaches_the_ringing_callee_and_the_callees_nonce_reaches_the_caller(friends):
    a, b, ringing, answer = await verified_call(*friends)
    assert ringing["sas_commitment"] == COMMITMENT
    assert answer == {
        "type": "call.answer",
        "call_id": "call-0001",
        "sdp": SDP_ANSWER,
        "sas_nonce": NONCE_B,
        "from": "bob@example.com",
    }
    await a.close()
    await b.close()


async def test_the_callers_reveal_is_relayed_to_the_answering_device_only(friends):
    alice, bob = friends
    a, b, _, _ = await verified_call(alice, bob)
    await a.send({"type": "call.sas_reveal", "call_id": "call-0001", "sas_nonce": NONCE_A, "id": "r1"})
    assert await b.recv_type("call.sas_reveal") == {
        "type": "call.sas_reveal",
        "call_id": "call-0001",
        "sas_nonce": NONCE_A,
        "from": "alice@example.com",
    }
    assert await a.silent()
    await a.close()
    await b.close()


async def test_a_client_without_the_new_fields_still_gets_a_plain_call(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await a.send({"type": "call.invite", "call_id": "call-0001", "to": "bob@example.com", "sdp": SDP_OFFER})
    assert "sas_commitment" not in await b.recv_type("call.invite")
    await a.recv_type("call.status")
    await b.send({"type": "call.answer", "call_id": "call-0001", "sdp": SDP_ANSWER})
    assert "sas_nonce" not in await a.recv_type("call.answer")
    await a.close()
    await b.close()


async def test_a_reveal_before_the_answer_is_invalid_state_and_rings_nobody(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    invite = {"type": "call.invite", "call_id": "call-0001", "to": "bob@example.com", "sdp": SDP_OFFER}
    await a.send({**invite, "sas_commitment": COMMITMENT})
    await b.recv_type("call.invite")
    await a.recv_type("call.status")
    await a.send({"type": "call.sas_reveal", "call_id": "call-0001", "sas_nonce": NONCE_A})
    assert (await a.recv_type("error"))["code"] == "invalid_state"
    assert await b.silent()
    await a.close()
    await b.close()


async def test_a_third_user_cannot_send_a_reveal_into_someone_elses_call(friends):
    alice, bob = friends
    charlie = await sync_to_async(make_user)("charlie@example.com")
    await sync_to_async(befriend)(charlie, alice)
    a, b, _, _ = await verified_call(alice, bob)
    c = await connect(charlie, "charlie-d1")
    await c.send({"type": "call.sas_reveal", "call_id": "call-0001", "sas_nonce": NONCE_A})
    assert (await c.recv_type("error"))["code"] == "unknown_call"
    assert await a.silent() and await b.silent()
    for x in (a, b, c):
        await x.close()


@pytest.mark.parametrize(
    "frame",
    [
        {
            "type": "call.invite",
            "call_id": "call-0001",
            "to": "b@example.com",
            "sdp": "v=0",
            "sas_commitment": "AB" * 32,
        },
        {"type": "call.invite", "call_id": "call-0001", "to": "b@example.com", "sdp": "v=0", "sas_commitment": "ab"},
        {"type": "call.invite", "call_id": "call-0001", "to": "b@example.com", "sdp": "v=0", "sas_commitment": 7},
        {"type": "call.invite", "call_id": "call-0001", "to": "b@example.com", "sdp": "v=0", "sas_nonce": NONCE_A},
        {"type": "call.answer", "call_id": "call-0001", "sdp": "v=0", "sas_commitment": COMMITMENT},
        {"type": "call.answer", "call_id": "call-0001", "sdp": "v=0", "sas_nonce": "g" * 64},
        {"type": "call.sas_reveal", "call_id": "call-0001"},
        {"type": "call.sas_reveal", "call_id": "call-0001", "sas_nonce": NONCE_A, "sdp": "v=0"},
        {"type": "call.sas_reveal", "call_id": "call-0001", "sas_nonce": NONCE_A + "0"},
    ],
)
async def test_malformed_verification_fields_are_refused_as_invalid_frames(alice, frame):
    client = await connect(alice)
    await client.send({**frame, "id": "f1"})
    error = await client.recv()
    assert (error["type"], error["code"], error["id"]) == ("error", "invalid_frame", "f1"), error
    await client.close()
