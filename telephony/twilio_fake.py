"""A local fake of the few Twilio REST endpoints NumFree uses, below the official SDK.

It is the SDK's HTTP client in embedded mode (DEBUG=1 without credentials) and
in tests, answering with JSON shaped like Twilio's documented responses. Its
state lives in the fakes' own store (numfree/fake_store.py), apart from
NumFree's database as Twilio's is, and shared by the web and worker processes.
Each request is one transaction there, so a rollback in NumFree never undoes
what "Twilio" did. Like Twilio, it holds a sent text's body until NumFree
deletes the message there (the simulation panel shows it); NumFree never does.

A message moves through Twilio's statuses: a sent one is `queued`, and a
moment later (the outbox job telephony.fake_twilio_finish) `finish_message`
makes it final, `sent` then `delivered`, each status POSTed to the
StatusCallback NumFree gave, signed like Twilio (telephony/twilio_fake_callbacks.py).
Until then deleting it answers 20009. Calls put through by the simulation
panel live here too and report their end to the number's status callback.
`fail_requests` makes Twilio answer an error (503, 20009, ...) to matching
requests until `recover()`, in every process sharing the store.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.utils import timezone
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from numfree import fake_store

if TYPE_CHECKING:
    from collections.abc import Iterable

API = "https://api.twilio.com"
PROVIDER = "twilio"
_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/(?P<rest>.+)$")
# Twilio holds a message it is still receiving or sending; deleting it then
# fails with error 20009 until it reaches a final state.
_IN_PROGRESS = {"accepted", "queued", "sending", "receiving"}
_FINAL_AFTER = {"accepted": "delivered", "queued": "delivered", "sending": "delivered", "receiving": "received"}
OUTBOUND_FINAL = {"delivered", "undelivered", "failed", "canceled"}
# How long Twilio takes to hand a queued text to the carrier, in the simulation.
CARRIER_DELAY_SECONDS = 1.0
# How long the simulation's recipients' phones keep a delivered text (where the panel reads codes).
HANDSET_HOURS = 1
# Twilio's documented magic "To" numbers for test credentials, and the error each gets.
MAGIC_RECIPIENTS = {
    "+15005550001": (21211, "The 'To' number is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region indicated by the 'To' number.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _rfc2822(when: Any = None) -> str:
    return format_datetime(when or timezone.now(), usegmt=True)


def silent_mp3(seconds: int = 1) -> bytes:
    """MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz): a playable file."""
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    return frame * max(1, int(seconds * 38.28))


def _error(status: int, code: int, message: str) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(status, json.dumps(body))


def _ok(data: dict[str, Any], status: int = 200) -> Response:
    return Response(status, json.dumps(data))


def _store(kind: str, sid: str, data: dict[str, Any], content: bytes = b"") -> dict[str, Any]:
    return fake_store.put(PROVIDER, kind, sid, data, content)


def _get(kind: str, sid: str) -> fake_store.Resource | None:
    return fake_store.get(PROVIDER, sid, kind)


def _number_in_use(e164: str) -> bool:
    return bool(fake_store.find(PROVIDER, "number", phone_number=e164))


def _injected(method: str, path: str) -> Response | None:
    failure = fake_store.injected_failure(PROVIDER, method, path)
    return None if failure is None else Response(failure.status, json.dumps(failure.body))


class FakeTwilioHttpClient(TwilioHttpClient):
    """Answers the SDK's requests from the fakes' store."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        super().__init__(pool_connections=False)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    # --- the SDK's entry point --------------------------------------------
    def request(  # type: ignore[override]
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if auth != (self.account_sid, self.auth_token):
            return _error(401, 20003, "Authentication Error - invalid username")
        parts = urlsplit(url)
        match = _PATH.match(parts.path)
        if parts.netloc != "api.twilio.com" or not match:
            return _error(404, 20404, f"The requested resource {parts.path} was not found")
        if match["account"] != self.account_sid:
            return _error(403, 20003, "Authenticate")
        fields = {key: str(value) for key, value in (data or {}).items()}
        query = {key: str(value) for key, value in (params or {}).items()}
        self.requests.append((method.upper(), match["rest"], {k: v for k, v in fields.items() if k != "Body"}))
        injected = _injected(method, parts.path)
        if injected is not None:
            return injected
        with fake_store.transaction():
            return self._route(method.upper(), match["rest"], query, fields)

    def fetch_bytes(self, url: str, auth: tuple[str, str]) -> tuple[bytes, str]:
        """Media and recording downloads (the SDK has no method for those)."""
        from telephony.twilio_api import _error_for

        if auth != (self.account_sid, self.auth_token):
            raise _error_for(401, 20003, "media download failed")
        path = urlsplit(url).path
        injected = _injected("GET", path)
        if injected is not None:
            raise _error_for(injected.status_code, None, "media download failed")
        match = _PATH.match(path)
        rest = match["rest"] if match else ""
        recording = re.fullmatch(r"Recordings/(RE[0-9a-f]{32})\.mp3", rest)
        media = re.fullmatch(r"Messages/(MM[0-9a-f]{32})/Media/(ME[0-9a-f]{32})", rest)
        if recording and (row := _get("recording", recording[1])):
            return bytes(row.content), "audio/mpeg"
        if media and (row := _get("media", media[2])):
            return bytes(row.content), row.data["content_type"]
        raise _error_for(404, 20404, "media download failed")

    # --- routing -------------------------------------------------------------
    def _route(self, method: str, rest: str, query: dict[str, str], fields: dict[str, str]) -> Response:
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"AvailablePhoneNumbers/([A-Z]{2})/Local\.json", self._search),
            ("POST", r"IncomingPhoneNumbers\.json", self._buy),
            ("DELETE", r"IncomingPhoneNumbers/(PN[0-9a-f]{32})\.json", self._release),
            ("POST", r"Messages\.json", self._send),
            ("GET", r"Messages/(MM[0-9a-f]{32}|SM[0-9a-f]{32})/Media\.json", self._list_media),
            ("DELETE", r"Messages/(MM[0-9a-f]{32}|SM[0-9a-f]{32})/Media/(ME[0-9a-f]{32})\.json", self._delete_media),
            ("DELETE", r"Messages/(MM[0-9a-f]{32}|SM[0-9a-f]{32})\.json", self._delete_message),
            ("GET", r"Recordings/(RE[0-9a-f]{32})\.json", self._fetch_recording),
            ("DELETE", r"Recordings/(RE[0-9a-f]{32})\.json", self._delete_recording),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, rest)
            if match and method == route_method:
                return handler(*match.groups(), query=query, fields=fields)
        return _error(
            404, 20404, f"The requested resource /2010-04-01/Accounts/{self.account_sid}/{rest} was not found"
        )

    def _uri(self, rest: str) -> str:
        return f"/2010-04-01/Accounts/{self.account_sid}/{rest}"

    # --- numbers -------------------------------------------------------------
    def _search(self, country: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        area_code = query.get("AreaCode", "")
        size = min(int(query.get("PageSize", "20")), 30)
        prefix = "+1" if country in {"US", "CA"} else "+44"
        owned = {number.data["phone_number"] for number in fake_store.find(PROVIDER, "number")}
        found = []
        # Area codes starting with 0 or 1 do not exist in North America: none found.
        if re.fullmatch(r"[2-9]\d\d", area_code):
            for line in range(1000, 1000 + size * 3, 3):
                e164 = f"{prefix}{area_code}555{line:04d}"
                if e164 in owned:
                    continue
                found.append(
                    {
                        "friendly_name": f"({area_code}) 555-{line:04d}",
                        "phone_number": e164,
                        "lata": "834",
                        "rate_center": "SIMULATED",
                        "latitude": None,
                        "longitude": None,
                        "locality": "Simulated City",
                        "region": "ON" if country == "CA" else "CA",
                        "postal_code": None,
                        "iso_country": country,
                        "address_requirements": "none",
                        "beta": False,
                        "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
                    }
                )
                if len(found) == size:
                    break
        uri = self._uri(f"AvailablePhoneNumbers/{country}/Local.json")
        return _ok(
            {
                "available_phone_numbers": found,
                "uri": uri,
                "end": len(found) - 1,
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
            }
        )

    def _buy(self, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        number = fields.get("PhoneNumber", "")
        if not re.fullmatch(r"\+\d{8,15}", number):
            return _error(400, 21421, "PhoneNumber is invalid")
        if _number_in_use(number):
            return _error(400, 21422, "PhoneNumber requested is not available")
        sid = new_sid("PN")
        now = _rfc2822()
        data = {
            "account_sid": self.account_sid,
            "address_requirements": "none",
            "address_sid": None,
            "api_version": "2010-04-01",
            "beta": False,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": now,
            "date_updated": now,
            "emergency_status": "Inactive",
            "friendly_name": number,
            "identity_sid": None,
            "origin": "twilio",
            "phone_number": number,
            "sid": sid,
            "sms_application_sid": None,
            "sms_fallback_method": fields.get("SmsFallbackMethod", "POST"),
            "sms_fallback_url": fields.get("SmsFallbackUrl", ""),
            "sms_method": fields.get("SmsMethod", "POST"),
            "sms_url": fields.get("SmsUrl", ""),
            "status_callback": fields.get("StatusCallback", ""),
            "status_callback_method": fields.get("StatusCallbackMethod", "POST"),
            "trunk_sid": None,
            "uri": self._uri(f"IncomingPhoneNumbers/{sid}.json"),
            "voice_application_sid": None,
            "voice_caller_id_lookup": False,
            "voice_fallback_method": fields.get("VoiceFallbackMethod", "POST"),
            "voice_fallback_url": fields.get("VoiceFallbackUrl", ""),
            "voice_method": fields.get("VoiceMethod", "POST"),
            "voice_url": fields.get("VoiceUrl", ""),
            "status": "in-use",
        }
        _store("number", sid, data)
        return _ok(data, 201)

    def _release(self, sid: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        number = _get("number", sid)
        if number is None or not fake_store.delete(PROVIDER, sid, "number"):
            return _error(
                404, 20404, f"The requested resource {self._uri(f'IncomingPhoneNumbers/{sid}.json')} was not found"
            )
        # The simulation's recipients' phones forget what this number sent them (see sent_texts).
        fake_store.delete_where(PROVIDER, "handset", **{"from": number.data["phone_number"]})
        return Response(204, "")

    # --- messages ------------------------------------------------------------
    def _message_json(self, sid: str, data: dict[str, Any]) -> dict[str, Any]:
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": data.get("body", ""),
            "date_created": data["date_created"],
            "date_sent": data.get("date_sent"),
            "date_updated": data["date_created"],
            "direction": data["direction"],
            "error_code": None,
            "error_message": None,
            "from": data["from"],
            "messaging_service_sid": None,
            "num_media": str(data.get("num_media", 0)),
            "num_segments": str(data.get("num_segments", 1)),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": data["status"],
            "subresource_uris": {"media": self._uri(f"Messages/{sid}/Media.json")},
            "to": data["to"],
            "uri": self._uri(f"Messages/{sid}.json"),
        }

    def _send(self, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        to, from_ = fields.get("To", ""), fields.get("From", "")
        if not re.fullmatch(r"\+\d{8,15}", to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in MAGIC_RECIPIENTS:
            return _error(400, *MAGIC_RECIPIENTS[to])
        if not _number_in_use(from_):
            return _error(
                400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number for your account."
            )
        body = fields.get("Body", "")
        if not body:
            return _error(400, 21602, "Message body is required.")
        sid = new_sid("SM")
        data = {
            "direction": "outbound-api",
            "from": from_,
            "to": to,
            "status": "queued",
            "num_segments": max(1, -(-len(body) // 153) if len(body) > 160 else 1),
            "num_media": 0,
            "date_created": _rfc2822(),
            "date_created_ts": time.time(),
            "status_callback": fields.get("StatusCallback", ""),
            "account_sid": self.account_sid,
            # Twilio's side holds the body until the message is deleted there; NumFree never stores it.
            "body": body,
        }
        _store("message", sid, data)
        # Twilio answers "queued" at once and carries the text on a moment later, after its own commit.
        fake_store.on_commit(lambda: _queue_job("telephony.fake_twilio_finish", {"sid": sid}, CARRIER_DELAY_SECONDS))
        return _ok(self._message_json(sid, data), 201)

    def _list_media(self, message_sid: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        rows = fake_store.find(PROVIDER, "media", parent_sid=message_sid)
        uri = self._uri(f"Messages/{message_sid}/Media.json")
        media_list = [
            {
                "account_sid": self.account_sid,
                "content_type": row.data["content_type"],
                "date_created": row.data["date_created"],
                "date_updated": row.data["date_created"],
                "parent_sid": message_sid,
                "sid": row.id,
                "uri": self._uri(f"Messages/{message_sid}/Media/{row.id}.json"),
            }
            for row in rows
        ]
        return _ok(
            {
                "media_list": media_list,
                "end": len(media_list) - 1,
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": 50,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        )

    def _delete_media(
        self, message_sid: str, media_sid: str, *, query: dict[str, str], fields: dict[str, str]
    ) -> Response:
        media = _get("media", media_sid)
        if media is None or media.data["parent_sid"] != message_sid:
            return _error(404, 20404, "The requested resource was not found")
        fake_store.delete(PROVIDER, media_sid)
        return Response(204, "")

    def _delete_message(self, sid: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        row = _get("message", sid)
        if row is None:
            return _error(404, 20404, f"The requested resource {self._uri(f'Messages/{sid}.json')} was not found")
        if row.data["status"] in _IN_PROGRESS:
            # Twilio finishes the message a moment later; the next attempt succeeds.
            finish_message(sid)
            return _error(409, 20009, "Cannot delete message because delivery has not been completed.")
        fake_store.delete_where(PROVIDER, "media", parent_sid=sid)
        fake_store.delete(PROVIDER, sid)
        return Response(204, "")

    # --- recordings ------------------------------------------------------
    def _fetch_recording(self, sid: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        row = _get("recording", sid)
        if row is None:
            return _error(404, 20404, f"The requested resource {self._uri(f'Recordings/{sid}.json')} was not found")
        data = row.data
        return _ok(
            {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "call_sid": data["call_sid"],
                "conference_sid": None,
                "channels": 1,
                "date_created": data["date_created"],
                "date_updated": data["date_created"],
                "start_time": data["date_created"],
                "duration": str(data["duration"]),
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "source": "RecordVerb",
                "status": "completed",
                "error_code": None,
                "encryption_details": None,
                "uri": self._uri(f"Recordings/{sid}.json"),
                "subresource_uris": {
                    "add_on_results": self._uri(f"Recordings/{sid}/AddOnResults.json"),
                    "transcriptions": self._uri(f"Recordings/{sid}/Transcriptions.json"),
                },
                "media_url": f"{API}{self._uri(f'Recordings/{sid}')}",
            }
        )

    def _delete_recording(self, sid: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        if not fake_store.delete(PROVIDER, sid, "recording"):
            return _error(404, 20404, f"The requested resource {self._uri(f'Recordings/{sid}.json')} was not found")
        return Response(204, "")


# --- what "the phone network" does, for the simulation panel and tests -------
def receive_message(
    account_sid: str, from_: str, to: str, media: list[tuple[bytes, str]] | None = None
) -> tuple[str, list[str]]:
    """Twilio received a text for one of our numbers: returns (MessageSid, media URLs).

    The message stays "receiving" until its first delete attempt, like a real
    one whose processing has not finished yet.
    """
    sid = new_sid("MM" if media else "SM")
    now = _rfc2822()
    _store(
        "message",
        sid,
        {
            "direction": "inbound",
            "from": from_,
            "to": to,
            "status": "receiving",
            "date_created": now,
            "num_media": len(media or []),
        },
    )
    urls = []
    for content, content_type in media or []:
        media_sid = new_sid("ME")
        _store("media", media_sid, {"parent_sid": sid, "content_type": content_type, "date_created": now}, content)
        urls.append(f"{API}/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media/{media_sid}")
    return sid, urls


def record_voicemail(account_sid: str, call_sid: str, seconds: int) -> tuple[str, str]:
    """Twilio finished a <Record>: returns (RecordingSid, RecordingUrl)."""
    sid = new_sid("RE")
    _store(
        "recording",
        sid,
        {"call_sid": call_sid, "duration": seconds, "date_created": _rfc2822()},
        silent_mp3(seconds),
    )
    return sid, f"{API}/2010-04-01/Accounts/{account_sid}/Recordings/{sid}"


def finish_message(sid: str, status: str | None = None) -> str | None:
    """Twilio is done with a message: it moves to a final status (by default the one its
    direction reaches: delivered or received) and can be deleted. A text we sent reports
    `sent`, then its final status, to its StatusCallback. Returns the new status."""
    with fake_store.transaction():
        row = _get("message", sid)
        if row is None:
            return None
        current = row.data["status"]
        if current not in _IN_PROGRESS:
            return current
        final = status or _FINAL_AFTER[current]
        _store("message", sid, {**row.data, "status": final})
        _hand_over(sid, row.data, final)
        if row.data.get("status_callback"):
            steps = ["sent", final] if final in {"delivered", "undelivered"} else [final]
            fake_store.on_commit(lambda: _queue_callbacks(sid, steps))
    return final


def finish_message_job(payload: dict[str, Any]) -> None:
    """Outbox job telephony.fake_twilio_finish: the carrier takes the text."""
    finish_message(payload["sid"])


def _queue_job(kind: str, payload: dict[str, Any], delay: float = 0.0, dedupe_key: str | None = None) -> None:
    from numfree.outbox import enqueue

    enqueue(kind, payload, delay=delay, dedupe_key=dedupe_key)


def _queue_callbacks(sid: str, statuses: Iterable[str], **extra: str) -> None:
    """POSTed by the worker, one status after the other, as Twilio sends them after its own commit."""
    for order, status in enumerate(statuses):
        _queue_job(
            "telephony.fake_twilio_callback",
            {"sid": sid, "status": status, **extra},
            delay=0.5 * order,
            dedupe_key=f"fake-twilio-callback:{sid}:{status}",
        )


# --- calls, for the simulation panel --------------------------------------
def start_call(account_sid: str, from_: str, to: str) -> str:
    """A call rings one of our numbers; returns its CallSid. Twilio reports its end to the
    status callback NumFree configured on the number."""
    numbers = fake_store.find(PROVIDER, "number", phone_number=to)
    sid = new_sid("CA")
    _store(
        "call",
        sid,
        {
            "account_sid": account_sid,
            "direction": "inbound",
            "from": from_,
            "to": to,
            "status": "ringing",
            "date_created": _rfc2822(),
            "status_callback": numbers[0].data.get("status_callback", "") if numbers else "",
            "duration": 0,
        },
    )
    return sid


def end_call(sid: str, status: str, duration: int) -> None:
    """The call is over: Twilio POSTs its final status and duration to the status callback."""
    with fake_store.transaction():
        row = _get("call", sid)
        if row is None or row.data["status"] in {"completed", "busy", "no-answer", "failed", "canceled"}:
            return
        _store("call", sid, {**row.data, "status": status, "duration": duration})
        if row.data.get("status_callback"):
            fake_store.on_commit(lambda: _queue_callbacks(sid, [status]))


def sent_texts(from_: str) -> list[dict[str, Any]]:
    """What the recipients' phones show of the texts sent from this number, newest first: those
    delivered (kept on "the phone" for HANDSET_HOURS, and no longer than the number is held), then
    those Twilio still holds on their way."""
    cutoff = time.time() - HANDSET_HOURS * 3600
    delivered = []
    for row in fake_store.find(PROVIDER, "handset", **{"from": from_}):
        if row.data["delivered_ts"] < cutoff:
            fake_store.delete(PROVIDER, row.id, "handset")
        else:
            delivered.append(row)
    on_the_way = [
        row
        for row in fake_store.find(PROVIDER, "message", direction="outbound-api", **{"from": from_})
        if row.data["status"] in _IN_PROGRESS or row.data["status"] == "sent"
    ]
    rows = sorted([*delivered, *on_the_way], key=lambda row: row.data["date_created_ts"], reverse=True)
    return [{"sid": row.id, "sent_at": parsedate_to_datetime(row.data["date_created"]), **row.data} for row in rows]


def _hand_over(sid: str, data: dict[str, Any], status: str) -> None:
    """The carrier delivered a text: the recipient's phone (simulated) now shows it."""
    if status != "delivered" or data.get("direction") != "outbound-api":
        return
    _store(
        "handset",
        f"handset-{sid}",
        {
            "from": data["from"],
            "to": data["to"],
            "body": data.get("body", ""),
            "status": "delivered",
            "date_created": data["date_created"],
            "date_created_ts": data.get("date_created_ts", 0),
            "delivered_ts": time.time(),
        },
    )


def resource(kind: str, sid: str) -> dict[str, Any] | None:
    """What the fake Twilio holds for this sid (a test's window into "Twilio's side")."""
    found = _get(kind, sid)
    return None if found is None else found.data


def exists(kind: str, sid: str) -> bool:
    return _get(kind, sid) is not None


def count(kind: str) -> int:
    return len(fake_store.find(PROVIDER, kind))


def fail_requests(
    *, status: int = 503, code: int | None = None, method: str = "", path: str = "", times: int | None = None
) -> None:
    """From now on Twilio answers matching requests (`path`: a regex searched in the URL path)
    with this error, `times` times or until `recover()`: an outage (503, code 20503) by default;
    `status=409, code=20009` is "cannot delete a message still in progress"."""
    code = code if code is not None else {503: 20503, 500: 20500, 429: 20429, 409: 20009}.get(status, 20001)
    messages = {
        20009: "Cannot delete message because delivery has not been completed.",
        20429: "Too Many Requests",
        20500: "Internal Server Error",
        20503: "Service unavailable",
    }
    body = {
        "code": code,
        "message": messages.get(code, "Error"),
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    fake_store.inject_failure(PROVIDER, status=status, body=body, method=method, path_pattern=path, times=times)


def recover() -> None:
    """Twilio answers normally again."""
    fake_store.clear_failures(PROVIDER)
