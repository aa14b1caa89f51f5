"""Calls across NAT: two aiortc callers, each in a home behind its own router, call through the Procfile's
web process in a public namespace and our own coturn (deploy/), with the credentials that
/api/signaling/ice-servers/ hands out. Behind a symmetric NAT the audio must go through the relay;
behind two ordinary home routers it may go through the routers' mappings or the relay. Either way it
is DTLS-SRTP between the two callers: the relay carries packets it cannot read.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import certificate_digest

from accounts.tokens import issue_pair
from tests.conftest import make_user
from tests.e2e.netns import enter_named_namespace
from tests.internet.conftest import STUN_URLS, TURN_URLS, PublicServer, Relay
from tests.internet.topology import SERVER_IP
from tests.signaling.conftest import befriend
from tests.signaling.processes import Socket
from tests.signaling.test_webrtc_call import (
    TONE_HZ,
    Ear,
    ToneTrack,
    add_remote_candidates,
    split_candidates,
)

pytestmark = pytest.mark.django_db(transaction=True)

ALICE, BOB = "alice@example.com", "bob@example.com"
CALL_ID = "call-nat-00000001"
EXTENSION_ORIGIN = "chrome-extension://lcfnpmfgjjhjcpnhpinojcpgakoaaonk"  # NUMFREE_EXTENSION_IDS' default in DEBUG
HEARD_PACKETS = 75  # 1.5 s of 20 ms packets received on each side
CALL_BUDGET_S = 60
STEP_S = 0.05


@dataclass
class Rendezvous:
    """What the two callers' threads wait for from each other (the call itself goes only through the server)."""

    bob_online: threading.Event = field(default_factory=threading.Event)
    heard: dict[str, threading.Event] = field(
        default_factory=lambda: {ALICE: threading.Event(), BOB: threading.Event()}
    )
    failed: threading.Event = field(default_factory=threading.Event)


async def wait_for(event: threading.Event, rendezvous: Rendezvous, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not event.is_set():
        if rendezvous.failed.is_set():
            raise AssertionError(f"the other caller failed while waiting for: {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(STEP_S)


def get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


async def open_socket(server: PublicServer, token: str, device: str) -> Socket:
    """The extension's socket: its Origin, then the auth frame."""
    sock = await Socket.open(server.ws_url, origin=EXTENSION_ORIGIN)
    await sock.send({"type": "auth", "token": token, "device_id": device})
    await sock.recv_type("auth.ok", timeout=10)
    await sock.recv_type("presence.snapshot", timeout=10)
    return sock


async def candidates_until_end(sock: Socket) -> list[dict[str, Any]]:
    """The other side's trickled candidates, up to its end-of-candidates (one audio section)."""
    found: list[dict[str, Any]] = []
    while not found or found[-1]["candidate"]:
        frame = await sock.recv_type("call.candidates", timeout=20)
        found.extend(frame["candidates"])
    return found


def candidate_kind(types: tuple[str, str]) -> str:
    """What a selected pair goes through: the relay, a NAT mapping (srflx/prflx) or straight host to host."""
    if "relay" in types:
        return "relay"
    if {"srflx", "prflx"} & set(types):
        return "srflx"
    return "host"


async def call_facts(pc: RTCPeerConnection) -> dict[str, Any]:
    (transceiver,) = pc.getTransceivers()
    dtls = transceiver.sender.transport
    connection = dtls.transport._connection  # aioice.Connection: the nominated pair is not in aiortc's stats
    (pair,) = connection._nominated.values()
    inbound = [s for s in (await transceiver.receiver.getStats()).values() if s.type == "inbound-rtp"]
    outbound = [s for s in (await transceiver.sender.getStats()).values() if s.type == "outbound-rtp"]
    transport = [s for s in (await pc.getStats()).values() if s.type == "transport"]
    types = (pair.local_candidate.type, pair.remote_candidate.type)
    return {
        "pair_types": types,
        "kind": candidate_kind(types),
        "pair": ((pair.local_candidate.host, pair.local_candidate.port), pair.remote_addr),
        "relay_addresses": [
            (c.host, c.port) for c in (pair.local_candidate, pair.remote_candidate) if c.type == "relay"
        ],
        "dtls_state": dtls.state,
        "srtp_profile": dtls._ssl.get_selected_srtp_profile().decode(),
        "fingerprint": dict((f.algorithm, f.value) for f in dtls.getLocalParameters().fingerprints)["sha-256"],
        "peer_certificate": certificate_digest(dtls._ssl.get_peer_certificate(as_cryptography=True), "sha-256"),
        "packets_received": sum(s.packetsReceived for s in inbound),
        "packets_sent": sum(s.packetsSent for s in outbound),
        "rtp_bytes_sent": sum(s.bytesSent for s in outbound),
        "transport_bytes": {
            "sent": sum(s.bytesSent for s in transport),
            "received": sum(s.bytesReceived for s in transport),
        },
    }


async def connect_and_listen(
    me: str, pc: RTCPeerConnection, ear: Ear, rendezvous: Rendezvous, facts: dict[str, Any]
) -> None:
    """Until both sides heard the other for a while; then what this side's call settled on."""
    started = time.monotonic()
    while pc.connectionState != "connected":
        if pc.connectionState in {"failed", "closed"} or time.monotonic() - started > 40:
            raise AssertionError(f"{me}: ICE/DTLS did not connect ({pc.connectionState})")
        await asyncio.sleep(STEP_S)
    facts["seconds_to_connect"] = round(time.monotonic() - started, 2)
    (transceiver,) = pc.getTransceivers()
    while True:
        inbound = [s for s in (await transceiver.receiver.getStats()).values() if s.type == "inbound-rtp"]
        if sum(s.packetsReceived for s in inbound) >= HEARD_PACKETS and ear.frames >= 25:
            break
        if time.monotonic() - started > 40:
            raise AssertionError(f"{me}: no audio arrived ({inbound})")
        await asyncio.sleep(STEP_S)
    rendezvous.heard[me].set()
    facts.update(await call_facts(pc))
    facts["heard"] = ear.hearing()


def rtc_configuration(ice: dict[str, Any]) -> RTCConfiguration:
    return RTCConfiguration(iceServers=[RTCIceServer(**server) for server in ice["iceServers"]])


async def alice_calls(server: PublicServer, token: str, rendezvous: Rendezvous, facts: dict[str, Any]) -> None:
    ice = await asyncio.to_thread(get_json, f"{server.http_url}/api/signaling/ice-servers/", token)
    facts["ice"] = ice
    pc = RTCPeerConnection(rtc_configuration(ice))
    ear = Ear(pc)
    sock = await open_socket(server, token, "alice-nat-01")
    try:
        await wait_for(rendezvous.bob_online, rendezvous, "Bob online")
        pc.addTrack(ToneTrack(TONE_HZ[ALICE]))
        await pc.setLocalDescription(await pc.createOffer())
        offer_sdp, candidates = split_candidates(pc.localDescription.sdp)
        facts["gathered"] = [c["candidate"] for c in candidates if c["candidate"]]
        await sock.send({"type": "call.invite", "call_id": CALL_ID, "to": BOB, "sdp": offer_sdp})
        await sock.send({"type": "call.candidates", "call_id": CALL_ID, "candidates": candidates})
        assert (await sock.recv_type("call.status", timeout=10))["status"] == "ringing"
        answer = await sock.recv_type("call.answer", timeout=30)
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], "answer"))
        await add_remote_candidates(pc, await candidates_until_end(sock))
        await connect_and_listen(ALICE, pc, ear, rendezvous, facts)
        await wait_for(rendezvous.heard[BOB], rendezvous, "Bob heard Alice")
        await sock.send({"type": "call.hangup", "call_id": CALL_ID, "reason": "user_hangup"})
    finally:
        await pc.close()
        if ear.task is not None:
            ear.task.cancel()
        await sock.close()


async def bob_answers(server: PublicServer, token: str, rendezvous: Rendezvous, facts: dict[str, Any]) -> None:
    ice = await asyncio.to_thread(get_json, f"{server.http_url}/api/signaling/ice-servers/", token)
    facts["ice"] = ice
    pc = RTCPeerConnection(rtc_configuration(ice))
    ear = Ear(pc)
    sock = await open_socket(server, token, "bob-nat-0001")
    try:
        rendezvous.bob_online.set()
        invite = await sock.recv_type("call.invite", timeout=30)
        assert (invite["call_id"], invite["from"]) == (CALL_ID, ALICE)
        await pc.setRemoteDescription(RTCSessionDescription(invite["sdp"], "offer"))
        pc.addTrack(ToneTrack(TONE_HZ[BOB]))
        await pc.setLocalDescription(await pc.createAnswer())
        answer_sdp, candidates = split_candidates(pc.localDescription.sdp)
        facts["gathered"] = [c["candidate"] for c in candidates if c["candidate"]]
        await sock.send({"type": "call.answer", "call_id": CALL_ID, "sdp": answer_sdp})
        await sock.send({"type": "call.candidates", "call_id": CALL_ID, "candidates": candidates})
        await add_remote_candidates(pc, await candidates_until_end(sock))
        await connect_and_listen(BOB, pc, ear, rendezvous, facts)
        hangup = await sock.recv_type("call.hangup", timeout=30)
        facts["hangup"] = (hangup["call_id"], hangup["from"], hangup["reason"])
    finally:
        await pc.close()
        if ear.task is not None:
            ear.task.cancel()
        await sock.close()


def run_caller(namespace: str, side: Any, rendezvous: Rendezvous, *args: Any) -> None:
    """One caller on its own thread and event loop inside its home's namespace (and so are its helper threads)."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(2, initializer=enter_named_namespace, initargs=(namespace,)))
        try:
            await asyncio.wait_for(side(*args), CALL_BUDGET_S)
        except BaseException:
            rendezvous.failed.set()
            raise

    enter_named_namespace(namespace)
    asyncio.run(main())


def place_call(relay: Relay, server: PublicServer) -> dict[str, dict[str, Any]]:
    """Alice (home a) calls Bob (home b) through the public server; returns what each side saw."""
    users = {ALICE: make_user(ALICE), BOB: make_user(BOB)}
    befriend(users[ALICE], users[BOB])
    tokens = {email: issue_pair(user).access for email, user in users.items()}
    rendezvous = Rendezvous()
    facts: dict[str, dict[str, Any]] = {ALICE: {}, BOB: {}}
    errors: dict[str, BaseException] = {}
    homes = relay.internet.homes
    sides = {ALICE: (homes["a"].namespace, alice_calls), BOB: (homes["b"].namespace, bob_answers)}

    def run(person: str) -> None:
        namespace, side = sides[person]
        try:
            run_caller(namespace, side, rendezvous, server, tokens[person], rendezvous, facts[person])
        except BaseException as exc:
            errors[person] = exc

    threads = [threading.Thread(target=run, args=(person,), name=f"caller-{person}") for person in (BOB, ALICE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise AssertionError(f"the call failed: {errors!r}; facts: {facts!r}") from next(iter(errors.values()))
    print(f"\n{summary(relay, facts)}")
    return facts


def summary(relay: Relay, facts: dict[str, dict[str, Any]]) -> str:
    lines = []
    for person, home in ((ALICE, "a"), (BOB, "b")):
        f = facts[person]
        nat = "symmetric" if relay.internet.homes[home].symmetric else "ordinary"
        lines.append(
            f"{person} ({nat} NAT): pair {f['pair_types'][0]}->{f['pair_types'][1]} ({f['kind']}), "
            f"connected in {f['seconds_to_connect']} s, RTP sent {f['packets_sent']} packets/{f['rtp_bytes_sent']} bytes, "
            f"received {f['packets_received']} packets, DTLS transport {f['transport_bytes']}"
        )
    return "\n".join(lines)


def assert_ice_servers_are_ours(facts: dict[str, dict[str, Any]], relay: Relay) -> None:
    """Both callers were handed our STUN and our TURN over UDP, TCP and TLS, with REST credentials of their own."""
    usernames = []
    for person in (ALICE, BOB):
        servers = facts[person]["ice"]["iceServers"]
        assert [s["urls"] for s in servers] == [STUN_URLS, TURN_URLS]
        turn = servers[1]
        assert re.fullmatch(r"\d{10}:[A-Za-z0-9_-]{16}", turn["username"]), turn["username"]
        usernames.append(turn["username"])
    assert usernames[0] != usernames[1]


def assert_audio_both_ways_end_to_end_encrypted(facts: dict[str, dict[str, Any]]) -> None:
    for me, them in ((ALICE, BOB), (BOB, ALICE)):
        mine, theirs = facts[me], facts[them]
        assert mine["dtls_state"] == "connected"
        assert mine["srtp_profile"].startswith("SRTP_"), mine["srtp_profile"]
        # The certificate at the far end of the DTLS session is the other caller's own: no one in between.
        assert mine["peer_certificate"] == theirs["fingerprint"]
        # what each side received, the other sent: counted when the receiving side had heard enough
        assert mine["packets_received"] >= HEARD_PACKETS
        assert mine["packets_sent"] > 0 and mine["rtp_bytes_sent"] > 0
        heard = mine["heard"]
        assert heard["rms"] > 1000, heard  # the tones are sent at RMS 5,657
        assert heard[them] > 100 * heard[me], heard
    assert facts[BOB]["hangup"] == (CALL_ID, ALICE, "user_hangup")


def assert_no_private_address_on_the_path(facts: dict[str, dict[str, Any]]) -> None:
    """Each caller's packets leave for a public address: their router's mapping or our relay."""
    for person in (ALICE, BOB):
        remote = facts[person]["pair"][1]
        assert remote[0].startswith("198.18.0."), facts[person]["pair"]


def test_a_caller_behind_a_symmetric_nat_talks_to_one_behind_a_home_router_through_our_turn_relay(
    relay: Relay, public_server: PublicServer
) -> None:
    relay.internet.set_nat("a", symmetric=True)
    assert "--random-fully" in relay.internet.nat_rules("a")
    try:
        facts = place_call(relay, public_server)
    finally:
        relay.internet.set_nat("a", symmetric=False)

    assert_ice_servers_are_ours(facts, relay)
    assert_audio_both_ways_end_to_end_encrypted(facts)
    assert_no_private_address_on_the_path(facts)
    for person in (ALICE, BOB):
        assert facts[person]["kind"] == "relay", facts[person]["pair_types"]
    # The relay candidates on the path are allocations on our relay, at its public address.
    relayed = [address for p in (ALICE, BOB) for address in facts[p]["relay_addresses"]]
    assert relayed and all(address[0] == SERVER_IP for address in relayed), relayed


def test_two_callers_behind_ordinary_home_routers_talk_through_their_nat_mappings_or_our_relay(
    relay: Relay, public_server: PublicServer
) -> None:
    assert "--random-fully" not in relay.internet.nat_rules("a") + relay.internet.nat_rules("b")
    facts = place_call(relay, public_server)

    assert_ice_servers_are_ours(facts, relay)
    assert_audio_both_ways_end_to_end_encrypted(facts)
    assert_no_private_address_on_the_path(facts)
    for person in (ALICE, BOB):
        assert facts[person]["kind"] in {"srflx", "relay"}, facts[person]["pair_types"]
