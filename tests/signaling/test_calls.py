"""The call protocol through the full ASGI app: every row of the table, timers, glare, the call log."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from telephony.models import CallLog
from tests.conftest import make_user
from tests.signaling.conftest import befriend, call_log_written, connect

pytestmark = pytest.mark.django_db(transaction=True)

SDP_OFFER = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 AA\r\n"
SDP_ANSWER = SDP_OFFER.replace("AA", "BB")
CAND = {"candidate": "candidate:1 1 udp 2122260223 127.0.0.2 50000 typ host", "sdpMid": "0", "sdpMLineIndex": 0}


@pytest.fixture
def friends(alice, bob):  # type: ignore[no-untyped-def]
    befriend(alice, bob)
    return alice, bob


@pytest.fixture
def charlie(db):  # type: ignore[no-untyped-def]
    return make_user("charlie@example.com")


async def logs(call_id: str) -> dict[str, dict]:
    await call_log_written()
    rows = await sync_to_async(list)(CallLog.objects.filter(external_id=call_id).select_related("user", "peer_user"))
    return {
        row.user.email: {
            "kind": row.kind,
            "direction": row.direction,
            "peer": row.peer,
            "answered": row.answered_at is not None,
            "ended": row.ended_at is not None,
            "end_reason": row.end_reason,
            "missed": row.missed,
            "duration_s": row.duration_s,
        }
        for row in rows
    }


async def ring(caller, callee_devices, call_id="call-0001", to="bob@example.com"):  # type: ignore[no-untyped-def]
    await caller.send({"type": "call.invite", "call_id": call_id, "to": to, "sdp": SDP_OFFER, "id": "i1"})
    invites = [await device.recv_type("call.invite") for device in callee_devices]
    status = await caller.recv_type("call.status")
    assert status == {"type": "call.status", "call_id": call_id, "status": "ringing"}
    return invites


async def answered_call(alice, bob, call_id="call-0001"):  # type: ignore[no-untyped-def]
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await ring(a, [b], call_id)
    await b.send({"type": "call.answer", "call_id": call_id, "sdp": SDP_ANSWER})
    assert (await a.recv_type("call.answer"))["sdp"] == SDP_ANSWER
    return a, b


async def test_an_invite_rings_every_device_of_the_callee_and_tells_the_caller(friends):
    alice, bob = friends
    a = await connect(alice, "alice-dev1")
    b1, b2 = await connect(bob, "bob-dev01"), await connect(bob, "bob-dev02")
    invites = await ring(a, [b1, b2])
    for invite in invites:
        assert invite == {
            "type": "call.invite",
            "call_id": "call-0001",
            "from": "alice@example.com",
            "sdp": SDP_OFFER,
            "lifetime_ms": 400,
        }
    for c in (a, b1, b2):
        await c.close()


async def test_calling_a_non_contact_or_an_unknown_address_is_not_a_contact(alice, bob):
    a = await connect(alice)
    b = await connect(bob)
    for to in ("bob@example.com", "nobody@example.com"):
        await a.send({"type": "call.invite", "call_id": "call-0001", "to": to, "sdp": SDP_OFFER})
        assert (await a.recv_type("error"))["code"] == "not_a_contact"
    assert await b.silent()
    await a.close()
    await b.close()


async def test_calling_an_offline_contact_hangs_up_offline_and_logs_a_missed_call(friends):
    alice, _ = friends
    a = await connect(alice)
    await a.send({"type": "call.invite", "call_id": "call-off1", "to": "bob@example.com", "sdp": SDP_OFFER})
    assert await a.recv_type("call.hangup") == {"type": "call.hangup", "call_id": "call-off1", "reason": "offline"}
    log = await logs("call-off1")
    assert log["bob@example.com"]["missed"] is True and log["bob@example.com"]["end_reason"] == "offline"
    assert log["alice@example.com"]["missed"] is False and log["alice@example.com"]["direction"] == "out"
    await a.close()


async def test_the_first_answer_wins_and_other_devices_hear_answered_elsewhere(friends):
    alice, bob = friends
    a = await connect(alice, "alice-dev1")
    b1, b2 = await connect(bob, "bob-dev01"), await connect(bob, "bob-dev02")
    await ring(a, [b1, b2])
    await b1.send({"type": "call.answer", "call_id": "call-0001", "sdp": SDP_ANSWER})
    answer = await a.recv_type("call.answer")
    assert answer == {"type": "call.answer", "call_id": "call-0001", "sdp": SDP_ANSWER, "from": "bob@example.com"}
    assert await b2.recv_type("call.answered_elsewhere") == {"type": "call.answered_elsewhere", "call_id": "call-0001"}
    await b2.send({"type": "call.answer", "call_id": "call-0001", "sdp": SDP_ANSWER, "id": "late"})
    late = await b2.recv_type("error")
    assert (late["code"], late["id"]) == ("already_answered", "late")
    assert await a.silent()
    for c in (a, b1, b2):
        await c.close()


async def test_the_callers_candidates_are_held_until_the_answer_then_go_to_the_answering_device_only(friends):
    alice, bob = friends
    a = await connect(alice, "alice-dev1")
    b1, b2 = await connect(bob, "bob-dev01"), await connect(bob, "bob-dev02")
    await ring(a, [b1, b2])
    await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND] * 30})
    await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND] * 30})
    assert await b1.silent() and await b2.silent()
    await b2.send({"type": "call.answer", "call_id": "call-0001", "sdp": SDP_ANSWER})
    await a.recv_type("call.answer")
    held = [await b2.recv_type("call.candidates"), await b2.recv_type("call.candidates")]
    assert [len(f["candidates"]) for f in held] == [50, 10]
    assert held[0]["from"] == "alice@example.com" and held[0]["candidates"][0] == CAND
    assert (await b1.recv_type("call.answered_elsewhere"))["call_id"] == "call-0001"
    assert await b1.silent()
    for c in (a, b1, b2):
        await c.close()


async def test_candidates_after_the_answer_are_relayed_both_ways(friends):
    a, b = await answered_call(*friends)
    await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND], "id": "c1"})
    relayed = await b.recv_type("call.candidates")
    assert relayed == {
        "type": "call.candidates",
        "call_id": "call-0001",
        "candidates": [CAND],
        "from": "alice@example.com",
    }
    await b.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
    assert (await a.recv_type("call.candidates"))["from"] == "bob@example.com"
    await a.close()
    await b.close()


async def test_more_than_200_held_candidates_are_refused(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await ring(a, [b])
    for _ in range(4):
        await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND] * 50})
    await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
    assert (await a.recv_type("error"))["code"] == "too_many_candidates"
    await a.close()
    await b.close()


async def test_negotiate_is_relayed_to_the_other_party(friends):
    a, b = await answered_call(*friends)
    await b.send({"type": "call.negotiate", "call_id": "call-0001", "sdp": SDP_OFFER, "description_type": "offer"})
    frame = await a.recv_type("call.negotiate")
    assert frame == {
        "type": "call.negotiate",
        "call_id": "call-0001",
        "sdp": SDP_OFFER,
        "description_type": "offer",
        "from": "bob@example.com",
    }
    await a.send({"type": "call.negotiate", "call_id": "call-0001", "sdp": SDP_ANSWER, "description_type": "answer"})
    assert (await b.recv_type("call.negotiate"))["description_type"] == "answer"
    await a.close()
    await b.close()


async def test_negotiate_before_an_answer_is_invalid_state(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await ring(a, [b])
    await a.send({"type": "call.negotiate", "call_id": "call-0001", "sdp": SDP_OFFER, "description_type": "offer"})
    assert (await a.recv_type("error"))["code"] == "invalid_state"
    await a.close()
    await b.close()


async def test_hangup_ends_the_call_and_logs_reason_and_duration(friends):
    a, b = await answered_call(*friends)
    await b.send({"type": "call.hangup", "call_id": "call-0001", "reason": "user_hangup"})
    hangup = await a.recv_type("call.hangup")
    assert hangup == {"type": "call.hangup", "call_id": "call-0001", "reason": "user_hangup", "from": "bob@example.com"}
    log = await logs("call-0001")
    assert log == {
        "alice@example.com": {
            "kind": "app",
            "direction": "out",
            "peer": "bob@example.com",
            "answered": True,
            "ended": True,
            "end_reason": "user_hangup",
            "missed": False,
            "duration_s": 0,
        },
        "bob@example.com": {
            "kind": "app",
            "direction": "in",
            "peer": "alice@example.com",
            "answered": True,
            "ended": True,
            "end_reason": "user_hangup",
            "missed": False,
            "duration_s": 0,
        },
    }
    await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
    assert (await a.recv_type("error"))["code"] == "unknown_call"
    await a.close()
    await b.close()


async def test_a_caller_hanging_up_before_an_answer_rings_off_every_device_and_leaves_a_missed_call(friends):
    alice, bob = friends
    a = await connect(alice, "alice-dev1")
    b1, b2 = await connect(bob, "bob-dev01"), await connect(bob, "bob-dev02")
    await ring(a, [b1, b2])
    await a.send({"type": "call.hangup", "call_id": "call-0001", "reason": "user_hangup"})
    for device in (b1, b2):
        assert (await device.recv_type("call.hangup"))["reason"] == "user_hangup"
    assert (await logs("call-0001"))["bob@example.com"]["missed"] is True
    for c in (a, b1, b2):
        await c.close()


async def test_reject_tells_the_caller_and_the_callees_other_devices(friends):
    alice, bob = friends
    a = await connect(alice, "alice-dev1")
    b1, b2 = await connect(bob, "bob-dev01"), await connect(bob, "bob-dev02")
    await ring(a, [b1, b2])
    await b1.send({"type": "call.reject", "call_id": "call-0001"})
    assert (await a.recv_type("call.hangup"))["reason"] == "rejected"
    assert (await b2.recv_type("call.hangup"))["reason"] == "rejected"
    assert await b1.silent()
    log = await logs("call-0001")
    assert log["bob@example.com"]["end_reason"] == "rejected" and log["bob@example.com"]["missed"] is False
    for c in (a, b1, b2):
        await c.close()


async def test_declining_as_busy_sends_user_busy_to_the_caller(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await ring(a, [b])
    await b.send({"type": "call.hangup", "call_id": "call-0001", "reason": "user_busy"})
    assert (await a.recv_type("call.hangup"))["reason"] == "user_busy"
    await a.close()
    await b.close()


async def test_an_unanswered_invite_times_out_for_both_sides_as_a_missed_call(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await ring(a, [b])
    assert (await a.recv_type("call.hangup", timeout=3))["reason"] == "invite_timeout"
    assert (await b.recv_type("call.hangup", timeout=3))["reason"] == "invite_timeout"
    log = await logs("call-0001")
    assert log["bob@example.com"]["missed"] is True and log["bob@example.com"]["end_reason"] == "invite_timeout"
    await a.close()
    await b.close()


async def test_glare_keeps_the_call_whose_id_sorts_lower(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await a.send({"type": "call.invite", "call_id": "call-bbbb", "to": "bob@example.com", "sdp": SDP_OFFER})
    await b.recv_type("call.invite")
    await a.recv_type("call.status")
    await b.send({"type": "call.invite", "call_id": "call-aaaa", "to": "alice@example.com", "sdp": SDP_OFFER})
    # call-aaaa survives: alice is rung; call-bbbb is replaced on all its devices.
    seen_a = [await a.recv_any(), await a.recv_any()]
    assert {"type": "call.hangup", "call_id": "call-bbbb", "reason": "replaced"} in seen_a
    assert any(f["type"] == "call.invite" and f["call_id"] == "call-aaaa" for f in seen_a)
    seen_b = [await b.recv_any(), await b.recv_any()]
    assert {"type": "call.hangup", "call_id": "call-bbbb", "reason": "replaced"} in seen_b
    assert any(f["type"] == "call.status" and f["call_id"] == "call-aaaa" for f in seen_b)
    await a.close()
    await b.close()


async def test_glare_where_the_later_invite_loses(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await ring(a, [b], "call-aaaa")
    await b.send({"type": "call.invite", "call_id": "call-zzzz", "to": "alice@example.com", "sdp": SDP_OFFER})
    assert await b.recv_type("call.hangup") == {"type": "call.hangup", "call_id": "call-zzzz", "reason": "replaced"}
    assert await a.silent()
    await a.close()
    await b.close()


async def test_a_reused_call_id_is_refused(friends):
    alice, bob = friends
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await ring(a, [b])
    await a.send({"type": "call.invite", "call_id": "call-0001", "to": "bob@example.com", "sdp": SDP_OFFER})
    assert (await a.recv_type("error"))["code"] == "call_exists"
    await a.close()
    await b.close()


async def test_a_third_user_cannot_inject_into_someone_elses_call(friends, charlie):
    alice, bob = friends
    await sync_to_async(befriend)(charlie, alice)
    a, b = await answered_call(alice, bob)
    c = await connect(charlie, "charlie-d1")
    injected = [
        {"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]},
        {"type": "call.answer", "call_id": "call-0001", "sdp": SDP_ANSWER},
        {"type": "call.negotiate", "call_id": "call-0001", "sdp": SDP_OFFER, "description_type": "offer"},
        {"type": "call.reject", "call_id": "call-0001"},
        {"type": "call.hangup", "call_id": "call-0001", "reason": "user_hangup"},
    ]
    for frame in injected:
        await c.send(frame)
        assert (await c.recv_type("error"))["code"] == "unknown_call"
        await c.send({**frame, "call_id": "call-none"})
        assert (await c.recv_type("error"))["code"] == "unknown_call"
    assert await a.silent() and await b.silent()
    await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
    assert (await b.recv_type("call.candidates"))["from"] == "alice@example.com"
    for x in (a, b, c):
        await x.close()


async def test_a_device_that_drops_mid_call_and_does_not_return_hangs_up_offline(friends):
    a, b = await answered_call(*friends)
    await b.close()
    hangup = await a.recv_type("call.hangup", timeout=3)
    assert hangup == {"type": "call.hangup", "call_id": "call-0001", "reason": "offline"}
    assert (await logs("call-0001"))["alice@example.com"]["end_reason"] == "offline"
    await a.close()


async def test_a_device_back_within_the_grace_keeps_the_call(friends, settings):
    settings.SIGNALING_RECONNECT_GRACE_MS = 800
    alice, bob = friends
    a, b = await answered_call(alice, bob)
    await b.close()
    b = await connect(bob, "bob-dev01")
    await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
    assert (await b.recv_type("call.candidates"))["from"] == "alice@example.com"
    await asyncio.sleep(1.0)
    await b.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
    assert (await a.recv_type("call.candidates"))["from"] == "bob@example.com"
    await a.close()
    await b.close()
