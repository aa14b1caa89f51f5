"""The signaling message schema: every client frame is checked here before anything acts on it.

`parse_frame(text)` returns a clean dict holding only the documented fields, or
raises FrameError with a code from numfree/errors.py. Relayed frames are built
from these clean dicts, so nothing a client adds beyond the schema is relayed.
"""

from __future__ import annotations

import json
import re
from typing import Any

TOKEN_RE = re.compile(r"[A-Za-z0-9._~-]{8,64}")
# The verification code's commitment and nonces (docs/extension.md): SHA-256 / 32 random bytes, hex.
SAS_HEX_RE = re.compile(r"[0-9a-f]{64}")
MAX_SDP_CHARS = 60_000
MAX_CANDIDATES = 50
HANGUP_REASONS = frozenset(
    {
        "user_hangup",
        "invite_timeout",
        "ice_failed",
        "ice_timeout",
        "user_media_failed",
        "user_busy",
        "rejected",
        "offline",
        "replaced",
        "unknown_error",
    }
)

# type -> (required fields, optional fields)
FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "auth": (frozenset({"token", "device_id"}), frozenset()),
    "ping": (frozenset(), frozenset()),
    "call.invite": (frozenset({"call_id", "to", "sdp"}), frozenset({"sas_commitment"})),
    "call.answer": (frozenset({"call_id", "sdp"}), frozenset({"sas_nonce"})),
    "call.reject": (frozenset({"call_id"}), frozenset()),
    "call.candidates": (frozenset({"call_id", "candidates"}), frozenset()),
    "call.negotiate": (frozenset({"call_id", "sdp", "description_type"}), frozenset()),
    "call.hangup": (frozenset({"call_id", "reason"}), frozenset()),
    "call.sas_reveal": (frozenset({"call_id", "sas_nonce"}), frozenset()),
}
SAS_FIELDS = ("sas_commitment", "sas_nonce")
ENVELOPE = frozenset({"type", "id"})
CANDIDATE_FIELDS = frozenset({"candidate", "sdpMid", "sdpMLineIndex", "usernameFragment"})


class FrameError(Exception):
    def __init__(self, code: str, message: str, frame_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.frame_id = frame_id


def _string(frame: dict[str, Any], field: str, max_len: int, *, min_len: int = 1) -> str:
    value = frame[field]
    if not isinstance(value, str) or not (min_len <= len(value) <= max_len):
        raise FrameError("invalid_frame", f"{field} must be a string of {min_len}-{max_len} characters")
    return value


def _token(frame: dict[str, Any], field: str) -> str:
    value = frame[field]
    if not isinstance(value, str) or not TOKEN_RE.fullmatch(value):
        raise FrameError("invalid_frame", f"{field} must be 8-64 characters of A-Z a-z 0-9 . _ ~ -")
    return value


def _sas_hex(frame: dict[str, Any], field: str) -> str:
    value = frame[field]
    if not isinstance(value, str) or not SAS_HEX_RE.fullmatch(value):
        raise FrameError("invalid_frame", f"{field} must be 64 lower-case hex digits")
    return value


def _candidate(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not set(raw) <= CANDIDATE_FIELDS or "candidate" not in raw:
        raise FrameError("invalid_frame", "each candidate is {candidate, sdpMid, sdpMLineIndex}")
    clean: dict[str, Any] = {"candidate": _string(raw, "candidate", 2048, min_len=0)}
    mid = raw.get("sdpMid")
    if mid is not None and (not isinstance(mid, str) or len(mid) > 64):
        raise FrameError("invalid_frame", "sdpMid must be a string of at most 64 characters or null")
    index = raw.get("sdpMLineIndex")
    if index is not None and (type(index) is not int or not 0 <= index <= 1023):
        raise FrameError("invalid_frame", "sdpMLineIndex must be an integer 0-1023 or null")
    clean["sdpMid"] = mid
    clean["sdpMLineIndex"] = index
    if "usernameFragment" in raw:
        ufrag = raw["usernameFragment"]
        if ufrag is not None and (not isinstance(ufrag, str) or len(ufrag) > 256):
            raise FrameError("invalid_frame", "usernameFragment must be a string or null")
        clean["usernameFragment"] = ufrag
    return clean


def parse_frame(text: str) -> dict[str, Any]:
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("invalid_json", "A frame must be one JSON object.") from None
    if not isinstance(frame, dict):
        raise FrameError("invalid_json", "A frame must be one JSON object.")
    frame_id = frame.get("id")
    if frame_id is not None and (not isinstance(frame_id, str) or len(frame_id) > 64):
        raise FrameError("invalid_frame", "id must be a string of at most 64 characters")
    try:
        return _clean(frame, frame_id)
    except FrameError as exc:
        exc.frame_id = frame_id
        raise


def _clean(frame: dict[str, Any], frame_id: str | None) -> dict[str, Any]:
    kind = frame.get("type")
    if not isinstance(kind, str) or kind not in FIELDS:
        raise FrameError("unknown_type", "type must be one of: " + ", ".join(sorted(FIELDS)))
    required, optional = FIELDS[kind]
    present = frame.keys() - ENVELOPE
    if present != required:
        if missing := sorted(required - present):
            raise FrameError("invalid_frame", f"{kind} needs: {', '.join(missing)}")
        if extra := sorted(present - required - optional):
            raise FrameError("invalid_frame", f"{kind} does not take: {', '.join(extra)[:200]}")
    clean: dict[str, Any] = {"type": kind}
    if frame_id is not None:
        clean["id"] = frame_id
    if kind == "auth":
        clean["token"] = _string(frame, "token", 4096)
        clean["device_id"] = _token(frame, "device_id")
        return clean
    if "call_id" in required:
        clean["call_id"] = _token(frame, "call_id")
    if "sdp" in required:
        clean["sdp"] = _string(frame, "sdp", MAX_SDP_CHARS)
    for field in SAS_FIELDS:
        if field in frame:  # only where FIELDS allows it: anything else was refused above
            clean[field] = _sas_hex(frame, field)
    if kind == "call.invite":
        clean["to"] = _string(frame, "to", 254).strip().lower()
    elif kind == "call.candidates":
        candidates = frame["candidates"]
        if not isinstance(candidates, list) or not 1 <= len(candidates) <= MAX_CANDIDATES:
            raise FrameError("invalid_frame", f"candidates must be a list of 1-{MAX_CANDIDATES} candidates")
        clean["candidates"] = [_candidate(c) for c in candidates]
    elif kind == "call.negotiate":
        if frame["description_type"] not in ("offer", "answer"):
            raise FrameError("invalid_frame", 'description_type must be "offer" or "answer"')
        clean["description_type"] = frame["description_type"]
    elif kind == "call.hangup":
        if frame["reason"] not in HANGUP_REASONS:
            raise FrameError("invalid_frame", "reason must be one of: " + ", ".join(sorted(HANGUP_REASONS)))
        clean["reason"] = frame["reason"]
    return clean
