"""A real WebRTC call: two aiortc peers signal through a live daphne process, inside a loopback-only
network namespace, and reach DTLS-SRTP with their audio going directly between them."""

from __future__ import annotations

import asyncio
import fractions
import json
import math
import subprocess
import time
import urllib.request
from array import array
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, MediaStreamTrack
from aiortc.rtcdtlstransport import certificate_digest
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame
from django.db import connection

from accounts.tokens import issue_pair
from telephony.models import CallLog
from tests.conftest import IN_CI, make_user
from tests.e2e.netns import NamespaceUnavailable, database_ports, run_in_loopback_namespace
from tests.signaling.conftest import befriend
from tests.signaling.processes import Daphne, Socket, daphnes

pytestmark = pytest.mark.django_db(transaction=True)

ALICE, BOB = "alice@example.com", "bob@example.com"
CALL_ID = "call-webrtc-0001"
TONE_HZ = {ALICE: 440, BOB: 660}
SAMPLE_RATE = 48_000
FRAME_SAMPLES = 960  # 20 ms
SECOND_ADDRESS = "127.0.0.2"  # aioice leaves 127.0.0.1 out of its host candidates
CALL_BUDGET_S = 30  # with daphne's start (at most 20 s) the test stays under a minute
TALK_PACKETS = 60  # 1.2 s of 20 ms packets after the first ones: the call log shows a duration of at least 1 s
STEP_S = 0.02
API_FIELDS = {
    "id",
    "kind",
    "direction",
    "peer",
    "started_at",
    "answered_at",
    "ended_at",
    "duration_s",
    "end_reason",
    "missed",
}


class ToneTrack(AudioStreamTrack):
    """A microphone that hums one sine tone, paced in real time like a real one."""

    def __init__(self, hz: int) -> None:
        super().__init__()
        one_second = array("h", (int(8000 * math.sin(2 * math.pi * hz * n / SAMPLE_RATE)) for n in range(SAMPLE_RATE)))
        self._pcm = one_second.tobytes()
        self._pts = 0
        self._start: float | None = None

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        else:
            self._pts += FRAME_SAMPLES
            await asyncio.sleep(max(0.0, self._start + self._pts / SAMPLE_RATE - time.monotonic()))
        offset = (self._pts % SAMPLE_RATE) * 2
        frame = AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
        plane = frame.planes[0]
        plane.update(self._pcm[offset : offset + FRAME_SAMPLES * 2].ljust(plane.buffer_size, b"\0"))
        frame.pts = self._pts
        frame.sample_rate = SAMPLE_RATE
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        return frame


class Ear:
    """Plays the remote track into a buffer: the last half second of decoded audio, first channel."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self.samples: deque[int] = deque(maxlen=SAMPLE_RATE // 2)
        self.frames = 0
        self.sample_rate = 0
        self.task: asyncio.Task[None] | None = None
        pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        self.task = asyncio.ensure_future(self._listen(track))

    async def _listen(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                channels = len(frame.layout.channels)
                pcm = array("h", bytes(frame.planes[0])[: frame.samples * channels * 2])
                self.samples.extend(pcm[::channels])
                self.sample_rate = frame.sample_rate
                self.frames += 1
        except MediaStreamError:
            return

    def hearing(self) -> dict[str, float]:
        """The loudness (RMS) of what was heard, and the power of each caller's tone in it."""
        samples = list(self.samples)
        rms = math.sqrt(sum(x * x for x in samples) / max(len(samples), 1))
        return {"rms": rms, **{who: tone_power(samples, hz, self.sample_rate) for who, hz in TONE_HZ.items()}}


def tone_power(samples: list[int], hz: int, sample_rate: int) -> float:
    """Goertzel: the power of one frequency in the samples."""
    k = 2 * math.cos(2 * math.pi * hz / sample_rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return s1 * s1 + s2 * s2 - k * s1 * s2


def split_candidates(sdp: str) -> tuple[str, list[dict[str, Any]]]:
    """The description without its candidates, and the candidates as trickled frames carry them
    (browser RTCIceCandidateInit form), each m-section ending with an empty end-of-candidates one."""
    lines = sdp.splitlines()
    mids: list[str | None] = []
    for line in lines:
        if line.startswith("m="):
            mids.append(None)
        elif line.startswith("a=mid:"):
            mids[-1] = line.removeprefix("a=mid:")
    kept: list[str] = []
    per_section: list[list[dict[str, Any]]] = [[] for _ in mids]
    index = -1
    for line in lines:
        if line.startswith("m="):
            index += 1
        if line.startswith("a=candidate:"):
            per_section[index].append({"candidate": line[2:], "sdpMid": mids[index], "sdpMLineIndex": index})
        elif line != "a=end-of-candidates":
            kept.append(line)
    candidates = [
        c
        for i, section in enumerate(per_section)
        for c in [*section, {"candidate": "", "sdpMid": mids[i], "sdpMLineIndex": i}]
    ]
    return "\r\n".join(kept) + "\r\n", candidates


async def add_remote_candidates(pc: RTCPeerConnection, candidates: list[dict[str, Any]]) -> None:
    for init in candidates:
        if not init["candidate"]:
            await pc.addIceCandidate(None)  # end of candidates
            continue
        candidate = candidate_from_sdp(init["candidate"].removeprefix("candidate:"))
        candidate.sdpMid = init["sdpMid"]
        candidate.sdpMLineIndex = init["sdpMLineIndex"]
        await pc.addIceCandidate(candidate)


async def relayed_candidates(sock: Socket, count: int) -> list[dict[str, Any]]:
    """Every candidates frame the server relays to this socket until `count` candidates arrived."""
    frames: list[dict[str, Any]] = []
    while sum(len(f["candidates"]) for f in frames) < count:
        frames.append(await sock.recv_type("call.candidates"))
    return frames


def fingerprint_in(sdp: str) -> str:
    (line,) = [line for line in sdp.splitlines() if line.startswith("a=fingerprint:sha-256 ")]
    return line.split()[1]


async def poll(what: str, check: Callable[[], Awaitable[Any] | Any], timeout: float = 15) -> Any:
    """The first truthy result of check() within the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(STEP_S)


async def packets(pc: RTCPeerConnection) -> tuple[int, int]:
    """(RTP packets received, RTP packets sent) on the call's one audio transceiver."""
    (transceiver,) = pc.getTransceivers()
    inbound = [s for s in (await transceiver.receiver.getStats()).values() if s.type == "inbound-rtp"]
    outbound = [s for s in (await transceiver.sender.getStats()).values() if s.type == "outbound-rtp"]
    return sum(s.packetsReceived for s in inbound), sum(s.packetsSent for s in outbound)


def transport_facts(pc: RTCPeerConnection) -> dict[str, Any]:
    """What the DTLS transport and ICE agent of the call settled on."""
    (transceiver,) = pc.getTransceivers()
    dtls = transceiver.sender.transport
    connection = dtls.transport._connection  # aioice.Connection
    (pair,) = connection._nominated.values()
    return {
        "dtls_state": dtls.state,
        "srtp_profile": dtls._ssl.get_selected_srtp_profile().decode(),
        "local_fingerprints": [(f.algorithm, f.value) for f in dtls.getLocalParameters().fingerprints],
        "peer_certificate": certificate_digest(dtls._ssl.get_peer_certificate(as_cryptography=True), "sha-256"),
        "pair": (pair.local_addr, pair.remote_addr),
        "remote_candidates": [(c.ip, c.port) for c in dtls.transport.getRemoteCandidates()],
        "local_candidates": [(c.ip, c.port) for c in dtls.transport.iceGatherer.getLocalCandidates()],
    }


def get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as answer:
        return json.loads(answer.read())


async def ended_call_in_history(server: Daphne, token: str) -> dict[str, Any]:
    async def ended() -> dict[str, Any] | None:
        page = await asyncio.to_thread(get_json, f"{server.http_url}/api/calls/", token)
        return page if page["results"] and page["results"][0]["ended_at"] else None

    page = await poll("the call shows as ended in /api/calls/", ended, timeout=10)
    (entry,) = page["results"]
    return entry


async def offer_answer_and_trickle(
    alice: Socket, bob: Socket, alice_pc: RTCPeerConnection, bob_pc: RTCPeerConnection, facts: dict[str, Any]
) -> None:
    """Alice invites Bob and he answers; descriptions go without candidates, which follow as frames."""
    alice_pc.addTrack(ToneTrack(TONE_HZ[ALICE]))
    await alice_pc.setLocalDescription(await alice_pc.createOffer())
    offer_sdp, alice_candidates = split_candidates(alice_pc.localDescription.sdp)
    facts["invited_at"] = datetime.now(UTC)
    await alice.send({"type": "call.invite", "call_id": CALL_ID, "to": BOB, "sdp": offer_sdp})
    await alice.send({"type": "call.candidates", "call_id": CALL_ID, "candidates": alice_candidates})
    assert await alice.recv_type("call.status") == {"type": "call.status", "call_id": CALL_ID, "status": "ringing"}

    invite = await bob.recv_type("call.invite")
    assert (invite["call_id"], invite["from"], invite["sdp"]) == (CALL_ID, ALICE, offer_sdp)
    await bob_pc.setRemoteDescription(RTCSessionDescription(invite["sdp"], "offer"))
    bob_pc.addTrack(ToneTrack(TONE_HZ[BOB]))
    await bob_pc.setLocalDescription(await bob_pc.createAnswer())
    answer_sdp, bob_candidates = split_candidates(bob_pc.localDescription.sdp)
    facts["answered_at"] = datetime.now(UTC)
    await bob.send({"type": "call.answer", "call_id": CALL_ID, "sdp": answer_sdp})
    await bob.send({"type": "call.candidates", "call_id": CALL_ID, "candidates": bob_candidates})

    # Alice's candidates were held until Bob answered; each side gets the other's, intact.
    to_bob = await relayed_candidates(bob, len(alice_candidates))
    await add_remote_candidates(bob_pc, [c for f in to_bob for c in f["candidates"]])
    answer = await alice.recv_type("call.answer")
    assert (answer["call_id"], answer["from"], answer["sdp"]) == (CALL_ID, BOB, answer_sdp)
    await alice_pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
    to_alice = await relayed_candidates(alice, len(bob_candidates))
    await add_remote_candidates(alice_pc, [c for f in to_alice for c in f["candidates"]])
    facts["sent"] = {ALICE: alice_candidates, BOB: bob_candidates}
    facts["relayed"] = {ALICE: to_alice, BOB: to_bob}
    facts["described_fingerprint"] = {ALICE: fingerprint_in(answer["sdp"]), BOB: fingerprint_in(invite["sdp"])}


async def talk(
    alice_pc: RTCPeerConnection, bob_pc: RTCPeerConnection, ears: dict[str, Ear], facts: dict[str, Any]
) -> None:
    """Both connect, then talk until 1.2 s more of each other's audio arrived."""
    started = time.monotonic()
    await poll("both peers connected", lambda: alice_pc.connectionState == bob_pc.connectionState == "connected")
    facts["seconds_to_connect"] = time.monotonic() - started

    first: dict[str, tuple[int, int]] = {}
    later: dict[str, tuple[int, int]] = {}

    async def received_some() -> bool:
        first[ALICE], first[BOB] = await packets(alice_pc), await packets(bob_pc)
        return first[ALICE][0] > 0 and first[BOB][0] > 0

    async def talked_for_a_while() -> bool:
        later[ALICE], later[BOB] = await packets(alice_pc), await packets(bob_pc)
        return all(later[p][0] >= first[p][0] + TALK_PACKETS for p in (ALICE, BOB))

    await poll("both received RTP", received_some)
    await poll("more audio arrived on both sides", talked_for_a_while)
    await poll("half a second decoded on both sides", lambda: min(ear.frames for ear in ears.values()) >= 25)
    facts["packets"] = {"first": first, "later": later}
    facts["heard"] = {person: ear.hearing() for person, ear in ears.items()}
    facts["transport"] = {ALICE: transport_facts(alice_pc), BOB: transport_facts(bob_pc)}


async def place_answer_and_hang_up(server: Daphne, tokens: dict[str, str]) -> dict[str, Any]:
    """Alice calls Bob, both talk for a moment, Alice hangs up; returns what each side saw."""
    facts: dict[str, Any] = {}
    ice = await asyncio.to_thread(get_json, f"{server.http_url}/api/signaling/ice-servers/", tokens[ALICE])
    config = RTCConfiguration(iceServers=[RTCIceServer(**s) for s in ice["iceServers"]])
    alice_pc, bob_pc = RTCPeerConnection(config), RTCPeerConnection(config)
    ears = {ALICE: Ear(alice_pc), BOB: Ear(bob_pc)}
    alice = await Socket.authed(server.ws_url, tokens[ALICE], "alice-aiortc-1")
    bob = await Socket.authed(server.ws_url, tokens[BOB], "bob-aiortc-01")
    try:
        await offer_answer_and_trickle(alice, bob, alice_pc, bob_pc, facts)
        await talk(alice_pc, bob_pc, ears, facts)
        facts["hung_up_at"] = datetime.now(UTC)
        await alice.send({"type": "call.hangup", "call_id": CALL_ID, "reason": "user_hangup"})
        facts["bob_got_hangup"] = await bob.recv_type("call.hangup")
    finally:
        for pc in (alice_pc, bob_pc):
            await pc.close()
        for ear in ears.values():
            if ear.task is not None:
                ear.task.cancel()
        for sock in (alice, bob):
            await sock.close()
    facts["history"] = {
        ALICE: await ended_call_in_history(server, tokens[ALICE]),
        BOB: await ended_call_in_history(server, tokens[BOB]),
    }
    return facts


def _in_loopback_namespace(task: Callable[[], Any], env: dict[str, str]) -> Any:
    """task() in a loopback-only namespace whose lo also has 127.0.0.2, the address the peers gather."""

    def with_second_address() -> Any:
        added = subprocess.run(
            ["ip", "addr", "add", f"{SECOND_ADDRESS}/8", "dev", "lo"], capture_output=True, text=True, check=False
        )
        if added.returncode != 0:
            raise NamespaceUnavailable(f"cannot add {SECOND_ADDRESS} to lo: {added.stderr.strip()}")
        return task()

    try:
        return run_in_loopback_namespace(with_second_address, forward_ports=database_ports(env))
    except NamespaceUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI=true and no loopback-only network namespace: {exc}")
        pytest.skip(f"needs a network namespace (unshare -n): {exc}")


def _database_dump() -> str:
    """Every row of every table, as text."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows = [[bytes(v) if isinstance(v, memoryview) else v for v in row] for row in cursor.fetchall()]
            chunks.append(f"{table}: {rows!r}")
    return "\n".join(chunks)


def _assert_signaling_relayed_every_candidate(facts: dict[str, Any]) -> None:
    for receiver, sender in ((ALICE, BOB), (BOB, ALICE)):
        frames = facts["relayed"][receiver]
        assert frames, f"no call.candidates frame reached {receiver}"
        assert all((f["call_id"], f["from"]) == (CALL_ID, sender) for f in frames)
        assert [c for f in frames for c in f["candidates"]] == facts["sent"][sender]
        gathered = [c["candidate"] for c in facts["sent"][sender] if c["candidate"]]
        assert gathered and all(f" {SECOND_ADDRESS} " in c for c in gathered), gathered
    assert facts["bob_got_hangup"] == {
        "type": "call.hangup",
        "call_id": CALL_ID,
        "reason": "user_hangup",
        "from": ALICE,
    }


def _assert_peer_to_peer_dtls_srtp(facts: dict[str, Any]) -> None:
    transport = facts["transport"]
    fingerprints = {p: dict(transport[p]["local_fingerprints"])["sha-256"] for p in (ALICE, BOB)}
    assert fingerprints[ALICE] != fingerprints[BOB]
    for me, them in ((ALICE, BOB), (BOB, ALICE)):
        mine, theirs = transport[me], transport[them]
        assert mine["dtls_state"] == "connected"
        assert mine["srtp_profile"].startswith("SRTP_"), mine["srtp_profile"]
        # The fingerprint relayed in the other's description is the certificate they presented.
        assert facts["described_fingerprint"][me] == fingerprints[them]
        assert mine["peer_certificate"] == fingerprints[them]
        # The selected pair joins the two peers' own loopback candidates, learnt only from the trickle.
        local, remote = mine["pair"]
        assert local[0].startswith("127.") and remote[0].startswith("127."), mine["pair"]
        assert local in mine["local_candidates"] and remote in theirs["local_candidates"]
        trickled = [c["candidate"].split()[4:6] for c in facts["sent"][them] if c["candidate"]]
        assert [[ip, str(port)] for ip, port in mine["remote_candidates"]] == trickled
    assert transport[ALICE]["pair"] == tuple(reversed(transport[BOB]["pair"]))


def _assert_audio_arrived(facts: dict[str, Any]) -> None:
    first, later = facts["packets"]["first"], facts["packets"]["later"]
    for person in (ALICE, BOB):
        assert 0 < first[person][0] < later[person][0], (first, later)
        assert 0 < first[person][1] < later[person][1], (first, later)
    for me, them in ((ALICE, BOB), (BOB, ALICE)):
        heard = facts["heard"][me]
        assert heard["rms"] > 1000, heard  # the tones are sent at RMS 5,657
        assert heard[them] > 100 * heard[me], heard


def _assert_call_log(facts: dict[str, Any], users: dict[str, Any], began: datetime, finished: datetime) -> None:
    """One row per party with who, when, how it ended and how long: nothing else, anywhere."""
    rows = {row.user.email: row for row in CallLog.objects.filter(external_id=CALL_ID).select_related("user")}
    assert set(rows) == {ALICE, BOB} and CallLog.objects.count() == 2
    for me, them, direction in ((ALICE, BOB, "out"), (BOB, ALICE, "in")):
        row = rows[me]
        assert began <= row.started_at <= row.answered_at <= row.ended_at <= finished
        assert abs((row.started_at - facts["invited_at"]).total_seconds()) < 1
        assert abs((row.answered_at - facts["answered_at"]).total_seconds()) < 1
        assert abs((row.ended_at - facts["hung_up_at"]).total_seconds()) < 1
        talked = (facts["hung_up_at"] - facts["answered_at"]).total_seconds()
        assert row.duration_s >= 1 and abs(row.duration_s - talked) <= 1, (row.duration_s, talked)
        fields = {f.attname: getattr(row, f.attname) for f in CallLog._meta.concrete_fields}
        assert fields == {
            "id": row.id,
            "user_id": users[me].id,
            "kind": "app",
            "direction": direction,
            "external_id": CALL_ID,
            "peer_number": "",
            "peer_user_id": users[them].id,
            "started_at": rows[ALICE].started_at,
            "answered_at": rows[ALICE].answered_at,
            "ended_at": rows[ALICE].ended_at,
            "duration_s": int((row.ended_at - row.answered_at).total_seconds()),
            "end_reason": "user_hangup",
            "missed": False,
            "status": "",
            "blocked": False,
        }
        entry = facts["history"][me]
        assert set(entry) == API_FIELDS
        assert (entry["kind"], entry["direction"], entry["peer"]) == ("app", direction, them)
        assert (entry["end_reason"], entry["missed"], entry["duration_s"]) == ("user_hangup", False, row.duration_s)


def _assert_nothing_of_the_session_kept(facts: dict[str, Any], server_log: str) -> None:
    fingerprints = [dict(facts["transport"][p]["local_fingerprints"])["sha-256"] for p in (ALICE, BOB)]
    dump = _database_dump()
    assert "telephony_calllog" in dump and CALL_ID in dump
    for secret in ["a=fingerprint", "candidate:", "a=ice-ufrag", SECOND_ADDRESS, *fingerprints]:
        assert secret not in dump, f"{secret!r} is stored in the database"
        assert secret not in server_log, f"{secret!r} is in the server's log"


def test_two_aiortc_peers_call_through_a_real_server_and_talk_directly_over_dtls_srtp(subprocess_env) -> None:
    users = {ALICE: make_user(ALICE), BOB: make_user(BOB)}
    befriend(users[ALICE], users[BOB])
    tokens = {email: issue_pair(user).access for email, user in users.items()}
    began = datetime.now(UTC)
    logs = []

    def scenario() -> dict[str, Any]:
        with daphnes(subprocess_env, 1) as (server,):
            logs.append(server.log)
            return asyncio.run(asyncio.wait_for(place_answer_and_hang_up(server, tokens), CALL_BUDGET_S))

    facts = _in_loopback_namespace(scenario, subprocess_env)
    finished = datetime.now(UTC)

    _assert_signaling_relayed_every_candidate(facts)
    _assert_peer_to_peer_dtls_srtp(facts)
    _assert_audio_arrived(facts)
    _assert_call_log(facts, users, began, finished)
    _assert_nothing_of_the_session_kept(facts, logs[0].read_text(errors="replace"))
