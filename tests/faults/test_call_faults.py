"""A web process killed (kill -9) under a live call, in the fault suite's production shape: both
parties were on it, the call was placed there; they reconnect to the other web process while it
restarts. What they notice: signaling comes back (candidates both ways, the hangup), no frame
sent after that is lost or doubled, and the call log gets its end.

Adds a row to the fault table: frames sent after recovery / delivered / lost / duplicated, and the
recovery time (from the kill until both sides can signal again). Production timers: the reconnect
grace is 20 s and a dead process is noticed 3 s after its last beat.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from tests.faults.topology import HOST, Row, Topology
from tests.signaling.processes import Socket

pytestmark = pytest.mark.postgres
EXTENSION_ORIGIN = "chrome-extension://lcfnpmfgjjhjcpnhpinojcpgakoaaonk"  # in the topology's NUMFREE_EXTENSION_IDS
FRAMES = 20
RECOVERY_GOAL = 10


def _people(topology: Topology) -> tuple[str, str]:
    script = (
        "from accounts.models import User\n"
        "from accounts.tokens import issue_pair\n"
        "from signaling.models import Contact\n"
        "a = User.objects.create_user(email='caller@example.com', password='x' * 20, email_verified=True)\n"
        "b = User.objects.create_user(email='callee@example.com', password='x' * 20, email_verified=True)\n"
        "Contact.mutual_between(a, b)\n"
        "print('TOKENS', issue_pair(a).access, issue_pair(b).access)\n"
    )
    out = topology.manage("shell", "-c", script)
    caller, callee = out.split("TOKENS", 1)[1].split()[:2]
    return caller, callee


def _call_log(topology: Topology, call_id: str) -> str:
    script = (
        "from telephony.models import CallLog\n"
        f"rows = CallLog.objects.filter(external_id='{call_id}', ended_at__isnull=False)\n"
        "print('ENDED', sorted(r.end_reason for r in rows))\n"
    )
    return topology.manage("shell", "-c", script).split("ENDED", 1)[1].strip()


async def _authed(url: str, token: str, device: str, deadline: float) -> Socket:
    while True:
        try:
            sock = await Socket.open(url, origin=EXTENSION_ORIGIN)
            await sock.send({"type": "auth", "token": token, "device_id": device})
            await sock.recv_type("auth.ok")
            await sock.recv_type("presence.snapshot")
            return sock
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


def _candidate(n: int) -> dict[str, Any]:
    return {
        "candidate": f"candidate:{n} 1 udp 2122260223 10.0.0.2 {50000 + n} typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }


async def _until_delivered(sender: Socket, receiver: Socket, call_id: str, deadline: float) -> None:
    while True:
        await sender.send({"type": "call.candidates", "call_id": call_id, "candidates": [_candidate(0)], "id": "probe"})
        try:
            reply = await sender.recv_type("error", timeout=0.4)
        except TimeoutError:
            await receiver.recv_type("call.candidates", timeout=3)
            return
        assert reply["code"] == "not_delivered", reply
        assert time.monotonic() < deadline, "signaling did not come back"
        await asyncio.sleep(0.1)


async def _received(sock: Socket, expected: int) -> list[str]:
    got: list[str] = []
    with_deadline = time.monotonic() + 5
    while len(got) < expected and time.monotonic() < with_deadline:
        try:
            frame = await sock.recv_type("call.candidates", timeout=max(0.1, with_deadline - time.monotonic()))
        except TimeoutError:
            break
        got.extend(c["candidate"] for c in frame["candidates"])
    return got


async def test_a_live_call_survives_a_kill_of_the_web_process_holding_it(
    topology: Topology, fault_table: list[Row]
) -> None:
    caller_token, callee_token = await asyncio.to_thread(_people, topology)
    web0, web1 = (f"ws://{HOST}:{port}/ws/signaling/" for port in topology.web_ports)
    call_id = "fault-call-kill-01"
    a = await _authed(web0, caller_token, "caller-dev1", time.monotonic() + 10)
    b = await _authed(web0, callee_token, "callee-dev1", time.monotonic() + 10)
    await a.send({"type": "call.invite", "call_id": call_id, "to": "callee@example.com", "sdp": "v=0 offer"})
    await b.recv_type("call.invite")
    await a.recv_type("call.status")
    await b.send({"type": "call.answer", "call_id": call_id, "sdp": "v=0 answer"})
    await a.recv_type("call.answer")

    topology.web[0].kill()
    killed = time.monotonic()
    restarting = asyncio.ensure_future(asyncio.to_thread(topology.web[0].start))
    try:
        a = await _authed(web1, caller_token, "caller-dev1", killed + 15)
        b = await _authed(web1, callee_token, "callee-dev1", killed + 15)
        await _until_delivered(a, b, call_id, killed + 20)
        await _until_delivered(b, a, call_id, killed + 20)
        recovery = time.monotonic() - killed

        for n in range(1, FRAMES + 1):
            await a.send({"type": "call.candidates", "call_id": call_id, "candidates": [_candidate(n)]})
            await b.send({"type": "call.candidates", "call_id": call_id, "candidates": [_candidate(100 + n)]})
        at_b, at_a = await _received(b, FRAMES), await _received(a, FRAMES)
        delivered = len(set(at_b)) + len(set(at_a))
        duplicated = len(at_b) + len(at_a) - delivered
        restart = {"type": "call.negotiate", "call_id": call_id, "sdp": "v=0 restart", "description_type": "offer"}
        await a.send(restart)
        assert (await b.recv_type("call.negotiate"))["sdp"] == "v=0 restart"
        await b.send({"type": "call.hangup", "call_id": call_id, "reason": "user_hangup"})
        assert (await a.recv_type("call.hangup"))["reason"] == "user_hangup"
        ended = ""
        for _ in range(20):
            ended = await asyncio.to_thread(_call_log, topology, call_id)
            if ended == "['user_hangup', 'user_hangup']":
                break
            await asyncio.sleep(0.5)
        await a.close()
        await b.close()
    finally:
        await restarting

    row = Row(
        "web SIGKILL under a live call (frames)", 2 * FRAMES, delivered, 2 * FRAMES - delivered, duplicated, recovery
    )
    fault_table.append(row)
    print(f"\n{row.line()}  (call log: {ended})")
    assert (row.delivered, row.lost, row.duplicated) == (2 * FRAMES, 0, 0)
    assert ended == "['user_hangup', 'user_hangup']"
    assert recovery <= RECOVERY_GOAL
