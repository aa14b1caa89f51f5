"""A call whose home process died is adopted (embedded mode: the in-memory store, one hub).

The home's death is staged in the store: the call is let go by this process's
registry and its home rewritten to a process that never beats. What a user
notices: frames, an ICE restart and the hangup reach the other side again; a
party that never comes back ends the call with `offline`; the call log ends.
The real-process version (SIGKILL, SIGTERM) is tests/signaling/test_process_death.py.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from signaling import call_recovery, clock
from signaling.hub import get_hub
from signaling.state_store import MemoryStore, get_store, reset_store
from telephony.models import CallLog
from tests.signaling.conftest import befriend, call_log_written, connect
from tests.signaling.test_calls import CAND, SDP_ANSWER, ring

pytestmark = pytest.mark.django_db(transaction=True)

DEAD = "local.deadprocess"


@pytest.fixture(autouse=True)
def _embedded_store(settings):  # type: ignore[no-untyped-def]
    """The in-memory store even in CI's Redis pass: this is the embedded mode's test."""
    settings.REDIS_URL = ""
    reset_store()


@pytest.fixture
def friends(alice, bob):  # type: ignore[no-untyped-def]
    befriend(alice, bob)
    return alice, bob


async def answered(alice, bob, call_id: str = "call-ad01"):  # type: ignore[no-untyped-def]
    a, b = await connect(alice, "alice-dev1"), await connect(bob, "bob-dev01")
    await ring(a, [b], call_id)
    await b.send({"type": "call.answer", "call_id": call_id, "sdp": SDP_ANSWER})
    await a.recv_type("call.answer")
    return a, b


async def home_dies(call_id: str) -> None:
    """As if the call had been placed on a process that then died: it is nowhere in memory,
    and the store names a home whose process stopped beating long ago."""
    hub = await get_hub()
    store = get_store()
    assert isinstance(store, MemoryStore)
    for _ in range(100):  # the answer's record update runs after the answer is relayed
        if "answered_device" in store.records.get(call_id, {}):
            break
        await asyncio.sleep(0.01)
    call_recovery.let_go(hub.registry)
    store.process_calls.get(store.homes[call_id].partition("!")[0], set()).discard(call_id)
    store.homes[call_id] = f"{DEAD}!1"
    store.process_calls.setdefault(DEAD, set()).add(call_id)
    store.beats[DEAD] = 1.0
    for consumer in hub.consumers.values():  # the sockets had cached the home that died
        if call_id in consumer.homes:
            consumer.homes[call_id] = f"{DEAD}!1"


async def log_rows(call_id: str) -> list[CallLog]:
    await call_log_written()
    return await sync_to_async(list)(CallLog.objects.filter(external_id=call_id).order_by("direction"))


async def test_a_frame_for_a_call_whose_home_died_adopts_it_and_signaling_continues(friends):
    alice, bob = friends
    a, b = await answered(alice, bob)
    await home_dies("call-ad01")

    await a.send({"type": "call.candidates", "call_id": "call-ad01", "candidates": [CAND]})
    assert (await b.recv_type("call.candidates"))["from"] == "alice@example.com"
    restart = {"type": "call.negotiate", "call_id": "call-ad01", "sdp": "v=0 restart", "description_type": "offer"}
    await b.send(restart)
    assert (await a.recv_type("call.negotiate"))["sdp"] == "v=0 restart"
    assert (await get_hub()).registry.calls["call-ad01"].caller_email == "alice@example.com"

    await a.send({"type": "call.hangup", "call_id": "call-ad01", "reason": "user_hangup"})
    assert (await b.recv_type("call.hangup"))["reason"] == "user_hangup"
    rows = await log_rows("call-ad01")
    assert [(r.direction, r.end_reason, r.answered_at is not None) for r in rows] == [
        ("in", "user_hangup", True),
        ("out", "user_hangup", True),
    ]
    await a.close()
    await b.close()


async def test_a_beat_adopts_an_orphaned_call_and_a_party_that_never_returns_ends_it_offline(friends):
    alice, bob = friends
    a, b = await answered(alice, bob, "call-ad02")
    await b.close()  # Bob's socket went down with the dead process and he is not back
    await home_dies("call-ad02")
    hub = await get_hub()

    # Nobody sends anything: the next beat (every 0.2 s here) finds the orphan and adopts it.
    hangup = await a.recv_type("call.hangup", timeout=3)
    assert hangup == {"type": "call.hangup", "call_id": "call-ad02", "reason": "offline"}
    assert "call-ad02" not in hub.registry.calls
    rows = await log_rows("call-ad02")
    assert {(r.end_reason, r.ended_at is not None) for r in rows} == {("offline", True)}
    await a.close()


async def test_a_party_on_a_dead_process_gets_the_grace_and_a_slow_one_keeps_its_call(friends, settings):
    settings.SIGNALING_RECONNECT_GRACE_MS = 1500
    alice, bob = friends
    a, b = await answered(alice, bob, "call-ad03")
    hub = await get_hub()
    store = get_store()
    assert isinstance(store, MemoryStore)
    call = hub.registry.calls["call-ad03"]
    call.answered_addr = f"{DEAD}!7"  # Bob's socket is on another process, which stops beating
    store.beats[DEAD] = clock.wall() - 10
    await wait_for(lambda: "callee" in call.grace, "the grace to start")

    store.beats[DEAD] = clock.wall() + 3600  # it beats again: it was only slow
    await wait_for(lambda: not call.grace, "the grace to be cancelled")
    assert await a.silent(1.6)

    store.beats[DEAD] = clock.wall() - 10  # and now it is dead for good
    hangup = await a.recv_type("call.hangup", timeout=4)
    assert hangup == {"type": "call.hangup", "call_id": "call-ad03", "reason": "offline"}
    rows = await log_rows("call-ad03")
    assert {r.end_reason for r in rows} == {"offline"}
    await a.close()
    await b.close()


async def wait_for(condition, what: str, timeout: float = 3) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_adoption_is_a_compare_and_set(settings):
    store = MemoryStore()
    record = {"caller_id": 1, "caller_device": "d1", "caller_addr": "x!1", "callee_id": 2, "started_at": "t"}
    await store.set_home("c1", f"{DEAD}!1", record)
    store.beats[DEAD] = 1.0

    first, second = await asyncio.gather(
        store.adopt("c1", f"{DEAD}!1", "local.b!1", 1.0), store.adopt("c1", f"{DEAD}!1", "local.c!1", 1.0)
    )
    assert (first.status, first.record) == ("adopted", record)
    assert (second.status, second.home) == ("moved", "local.b!1")
    assert await store.home("c1") == "local.b!1"

    await store.beat("local.b", 1.0)  # its new home beats: nobody may take it
    assert (await store.adopt("c1", "local.b!1", "local.c!1", 1.0)).status == "alive"
    # Dead for over an hour and holding no call any more: the beat forgets that process.
    assert await store.beat("local.c", 1.0) == (set(), {}, False)
    assert DEAD not in store.beats

    await store.forget_call("c1", [(1, "d1")], (1, 2), home="local.b!1")
    assert (await store.adopt("c1", "local.b!1", "local.c!1", 1.0)).status == "gone"
