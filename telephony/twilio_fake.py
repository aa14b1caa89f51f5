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

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from numfree import fake_store
from telephony.twilio_fake_messages import (
    CARRIER_DELAY_SECONDS,
    HANDSET_HOURS,
    IN_PROGRESS,
    MAGIC_RECIPIENTS,
    OUTBOUND_FINAL,
    MessageEndpoints,
    finish_message,
    finish_message_job,
    receive_message,
    sent_texts,
)
from telephony.twilio_fake_records import (
    API,
    PATH,
    PROVIDER,
    error,
    get,
    injected,
    new_sid,
    number_in_use,
    ok,
    queue_callbacks,
    rfc2822,
    store,
)

# Callers (the simulation panel, tests, jobs.py) keep using telephony.twilio_fake for all of it.
__all__ = [
    "API",
    "CARRIER_DELAY_SECONDS",
    "HANDSET_HOURS",
    "IN_PROGRESS",
    "MAGIC_RECIPIENTS",
    "OUTBOUND_FINAL",
    "FakeTwilioHttpClient",
    "count",
    "end_call",
    "exists",
    "fail_requests",
    "finish_message",
    "finish_message_job",
    "new_sid",
    "receive_message",
    "record_voicemail",
    "recover",
    "resource",
    "sent_texts",
    "start_call",
]


def silent_mp3(seconds: int = 1) -> bytes:
    """MPEG-1 Layer III frames of silence (128 kbit/s, 44.1 kHz): a playable file."""
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413
    return frame * max(1, int(seconds * 38.28))


class FakeTwilioHttpClient(MessageEndpoints, TwilioHttpClient):
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
            return error(401, 20003, "Authentication Error - invalid username")
        parts = urlsplit(url)
        match = PATH.match(parts.path)
        if parts.netloc != "api.twilio.com" or not match:
            return error(404, 20404, f"The requested resource {parts.path} was not found")
        if match["account"] != self.account_sid:
            return error(403, 20003, "Authenticate")
        fields = {key: str(value) for key, value in (data or {}).items()}
        # A next page's URL carries its query (the SDK follows next_page_uri as is).
        query = {**dict(parse_qsl(parts.query)), **{key: str(value) for key, value in (params or {}).items()}}
        self.requests.append((method.upper(), match["rest"], {k: v for k, v in fields.items() if k != "Body"}))
        failure = injected(method, parts.path)
        if failure is not None:
            return failure
        with fake_store.transaction():
            return self._route(method.upper(), match["rest"], query, fields)

    def fetch_bytes(self, url: str, auth: tuple[str, str]) -> tuple[bytes, str]:
        """Media and recording downloads (the SDK has no method for those)."""
        from telephony.twilio_api import _error_for

        if auth != (self.account_sid, self.auth_token):
            raise _error_for(401, 20003, "media download failed")
        path = urlsplit(url).path
        failure = injected("GET", path)
        if failure is not None:
            raise _error_for(failure.status_code, None, "media download failed")
        match = PATH.match(path)
        rest = match["rest"] if match else ""
        recording = re.fullmatch(r"Recordings/(RE[0-9a-f]{32})\.mp3", rest)
        media = re.fullmatch(r"Messages/(MM[0-9a-f]{32})/Media/(ME[0-9a-f]{32})", rest)
        if recording and (row := get("recording", recording[1])):
            return bytes(row.content), "audio/mpeg"
        if media and (row := get("media", media[2])):
            return bytes(row.content), row.data["content_type"]
        raise _error_for(404, 20404, "media download failed")

    # --- routing -------------------------------------------------------------
    def _route(self, method: str, rest: str, query: dict[str, str], fields: dict[str, str]) -> Response:
        routes: list[tuple[str, str, Any]] = [
            ("GET", r"AvailablePhoneNumbers/([A-Z]{2})/Local\.json", self._search),
            ("POST", r"IncomingPhoneNumbers\.json", self._buy),
            ("DELETE", r"IncomingPhoneNumbers/(PN[0-9a-f]{32})\.json", self._release),
            ("POST", r"Messages\.json", self._send),
            ("GET", r"Messages\.json", self._list_messages),
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
        return error(404, 20404, f"The requested resource /2010-04-01/Accounts/{self.account_sid}/{rest} was not found")

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
        return ok(
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
            return error(400, 21421, "PhoneNumber is invalid")
        if number_in_use(number):
            return error(400, 21422, "PhoneNumber requested is not available")
        sid = new_sid("PN")
        now = rfc2822()
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
        store("number", sid, data)
        return ok(data, 201)

    def _release(self, sid: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        number = get("number", sid)
        if number is None or not fake_store.delete(PROVIDER, sid, "number"):
            return error(
                404, 20404, f"The requested resource {self._uri(f'IncomingPhoneNumbers/{sid}.json')} was not found"
            )
        # The simulation's recipients' phones forget what this number sent them (see sent_texts).
        fake_store.delete_where(PROVIDER, "handset", **{"from": number.data["phone_number"]})
        return Response(204, "")

    # --- recordings ------------------------------------------------------
    def _fetch_recording(self, sid: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        row = get("recording", sid)
        if row is None:
            return error(404, 20404, f"The requested resource {self._uri(f'Recordings/{sid}.json')} was not found")
        data = row.data
        return ok(
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
            return error(404, 20404, f"The requested resource {self._uri(f'Recordings/{sid}.json')} was not found")
        return Response(204, "")


def record_voicemail(account_sid: str, call_sid: str, seconds: int) -> tuple[str, str]:
    """Twilio finished a <Record>: returns (RecordingSid, RecordingUrl)."""
    sid = new_sid("RE")
    store(
        "recording",
        sid,
        {"call_sid": call_sid, "duration": seconds, "date_created": rfc2822()},
        silent_mp3(seconds),
    )
    return sid, f"{API}/2010-04-01/Accounts/{account_sid}/Recordings/{sid}"


# --- calls, for the simulation panel --------------------------------------
def start_call(account_sid: str, from_: str, to: str) -> str:
    """A call rings one of our numbers; returns its CallSid. Twilio reports its end to the
    status callback NumFree configured on the number."""
    numbers = fake_store.find(PROVIDER, "number", phone_number=to)
    sid = new_sid("CA")
    store(
        "call",
        sid,
        {
            "account_sid": account_sid,
            "direction": "inbound",
            "from": from_,
            "to": to,
            "status": "ringing",
            "date_created": rfc2822(),
            "status_callback": numbers[0].data.get("status_callback", "") if numbers else "",
            "duration": 0,
        },
    )
    return sid


def end_call(sid: str, status: str, duration: int) -> None:
    """The call is over: Twilio POSTs its final status and duration to the status callback."""
    with fake_store.transaction():
        row = get("call", sid)
        if row is None or row.data["status"] in {"completed", "busy", "no-answer", "failed", "canceled"}:
            return
        store("call", sid, {**row.data, "status": status, "duration": duration})
        if row.data.get("status_callback"):
            fake_store.on_commit(lambda: queue_callbacks(sid, [status]))


def resource(kind: str, sid: str) -> dict[str, Any] | None:
    """What the fake Twilio holds for this sid (a test's window into "Twilio's side")."""
    found = get(kind, sid)
    return None if found is None else found.data


def exists(kind: str, sid: str) -> bool:
    return get(kind, sid) is not None


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
