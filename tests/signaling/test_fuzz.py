"""A bounded WebSocket fuzz: 10,000 random and malformed frames; the server stays up and answers each."""

from __future__ import annotations

import json
import random
import string

import pytest
from asgiref.sync import sync_to_async

from tests.conftest import make_user
from tests.signaling.conftest import befriend, connect
from tests.signaling.test_calls import CAND, answered_call

pytestmark = pytest.mark.django_db(transaction=True)

DOCUMENTED = {
    "invalid_json",
    "invalid_frame",
    "unknown_type",
    "already_authenticated",
    "not_a_contact",
    "unknown_call",
    "call_exists",
    "invalid_state",
    "too_many_candidates",
    "rate_limited",
}
TYPES = [
    "ping",
    "auth",
    "call.invite",
    "call.answer",
    "call.reject",
    "call.candidates",
    "call.negotiate",
    "call.hangup",
    "call.sas_reveal",
    "x",
]


def random_value(rng: random.Random, depth: int = 0):  # type: ignore[no-untyped-def]
    choice = rng.randrange(8 if depth < 3 else 5)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice([True, False, 0, -1, 2**70, 1.5, float("1e308")])
    if choice == 2:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 80)))
    if choice == 3:
        return rng.choice(["call-0001", "mallory-call", "bob@example.com", "", "\u0000", "é" * 70])
    if choice == 4:
        return rng.randrange(-5, 300)
    if choice == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    return {
        rng.choice(["type", "call_id", "sdp", "to", "candidates", "reason", "id", "sas_nonce", "zz"]): random_value(
            rng, depth + 1
        )
        for _ in range(rng.randrange(0, 6))
    }


def random_frame(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:  # bytes that are not JSON, or truncated JSON
        text = json.dumps({"type": rng.choice(TYPES), "call_id": "call-0001"})
        return text[: rng.randrange(len(text))] or "{"
    if kind == 1:
        return json.dumps(random_value(rng))
    frame = {"type": rng.choice(TYPES)}
    for field in rng.sample(
        [
            "call_id",
            "sdp",
            "to",
            "candidates",
            "reason",
            "description_type",
            "id",
            "token",
            "device_id",
            "sas_commitment",
            "sas_nonce",
        ],
        3,
    ):
        frame[field] = random_value(rng)
    if rng.random() < 0.1:  # well-formed verification values, on any frame type
        frame[rng.choice(["sas_commitment", "sas_nonce"])] = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    if rng.random() < 0.5:
        frame["call_id"] = "call-0001"  # aimed at the live call between alice and bob
    if rng.random() < 0.3:
        frame["candidates"] = [
            {"candidate": random_value(rng), "sdpMid": random_value(rng), "sdpMLineIndex": random_value(rng)}
        ]
    return json.dumps(frame)


async def test_ten_thousand_bad_frames_get_errors_and_leave_other_calls_alone(settings, alice, bob):
    settings.SIGNALING_RATE_BURST = 100_000
    settings.SIGNALING_RATE_PER_SECOND = 100_000
    await sync_to_async(befriend)(alice, bob)
    mallory = await sync_to_async(make_user)("mallory@example.com")
    a, b = await answered_call(alice, bob)
    m = await connect(mallory, "mallory-d1")
    rng = random.Random(20260101)
    for n in range(10_000):
        await m.send(random_frame(rng))
        reply = await m.recv_any()
        assert reply["type"] in {"error", "pong", "call.hangup", "call.status"}, reply
        if reply["type"] == "error":
            assert reply["code"] in DOCUMENTED, reply
        if n % 1000 == 0:  # the real call still works
            await a.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
            assert (await b.recv_type("call.candidates"))["from"] == "alice@example.com"
    assert await a.silent() and await b.silent()
    await b.send({"type": "call.candidates", "call_id": "call-0001", "candidates": [CAND]})
    assert (await a.recv_type("call.candidates"))["from"] == "bob@example.com"
    for c in (a, b, m):
        await c.close()
