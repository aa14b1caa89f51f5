"""The fake Twilio's status callbacks: what Twilio POSTs to NumFree after a text or call moves on.

They are sent by the worker (outbox job telephony.fake_twilio_callback, queued
after the fake's own commit), over HTTP to the URL NumFree gave — the
message's StatusCallback, the number's voice status callback — form-encoded
and signed with Twilio's algorithm (the SDK's RequestValidator and the
account's auth token), as Twilio sends them. A non-2xx answer is retried.
Tests swap `transport` for one that goes through the WSGI app in-process.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings

from numfree.outbox import PermanentFailure
from telephony import twilio_api, twilio_fake

logger = logging.getLogger(__name__)
# (url, form body, headers) -> HTTP status.
Transport = Callable[[str, bytes, dict[str, str]], int]


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - our configured URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


transport: Transport = _http_post


def message_params(sid: str, data: dict[str, Any], status: str) -> dict[str, str]:
    """Twilio's message status callback parameters (no body: Twilio never sends it there)."""
    params = {
        "AccountSid": data.get("account_sid", twilio_api.account_sid()),
        "ApiVersion": "2010-04-01",
        "From": data["from"],
        "To": data["to"],
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
    }
    if status in {"undelivered", "failed"}:
        params["ErrorCode"] = "30003"
    return params


def call_params(sid: str, data: dict[str, Any], status: str) -> dict[str, str]:
    """Twilio's call status callback parameters for a call's end."""
    return {
        "AccountSid": data.get("account_sid", twilio_api.account_sid()),
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": status,
        "CallDuration": str(data.get("duration", 0)),
        "Direction": data["direction"],
        "From": data["from"],
        "Caller": data["from"],
        "To": data["to"],
        "Called": data["to"],
    }


def post(url: str, params: dict[str, str]) -> int:
    """POST one callback signed as Twilio signs it; returns the HTTP status."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "X-Twilio-Signature": twilio_api.signature_for(url, params),
        "User-Agent": "TwilioProxy/1.1",
    }
    return transport(url, urlencode(params).encode(), headers)


def deliver(payload: dict[str, Any]) -> None:
    """Outbox job: send one status of a message or call to its status callback (retried on non-2xx)."""
    if not settings.TWILIO_FAKE:
        raise PermanentFailure("the Twilio fake is off")
    sid, status = payload["sid"], payload["status"]
    kind = "call" if sid.startswith("CA") else "message"
    data = twilio_fake.resource(kind, sid)
    if data is None or not data.get("status_callback"):
        return  # deleted at Twilio meanwhile: nothing left to report
    params = message_params(sid, data, status) if kind == "message" else call_params(sid, data, status)
    answered = post(data["status_callback"], params)
    if not 200 <= answered < 300:
        raise RuntimeError(f"status callback answered {answered}")
    logger.debug("fake twilio %s callback %s delivered", kind, status)
