"""The fake Twilio's records and answers: sids, dates, JSON bodies and errors shaped like Twilio's,
kept in the fakes' store (numfree/fake_store.py). Shared by telephony/twilio_fake.py (numbers,
recordings, calls) and telephony/twilio_fake_messages.py (messages)."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from email.utils import format_datetime
from typing import Any

from django.utils import timezone
from twilio.http.response import Response

from numfree import fake_store

API = "https://api.twilio.com"
PROVIDER = "twilio"
PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})/(?P<rest>.+)$")


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def rfc2822(when: Any = None) -> str:
    return format_datetime(when or timezone.now(), usegmt=True)


def error(status: int, code: int, message: str) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(status, json.dumps(body))


def ok(data: dict[str, Any], status: int = 200) -> Response:
    return Response(status, json.dumps(data))


def store(kind: str, sid: str, data: dict[str, Any], content: bytes = b"") -> dict[str, Any]:
    return fake_store.put(PROVIDER, kind, sid, data, content)


def get(kind: str, sid: str) -> fake_store.Resource | None:
    return fake_store.get(PROVIDER, sid, kind)


def number_in_use(e164: str) -> bool:
    return bool(fake_store.find(PROVIDER, "number", phone_number=e164))


def injected(method: str, path: str) -> Response | None:
    failure = fake_store.injected_failure(PROVIDER, method, path)
    return None if failure is None else Response(failure.status, json.dumps(failure.body))


def queue_job(kind: str, payload: dict[str, Any], delay: float = 0.0, dedupe_key: str | None = None) -> None:
    from numfree.outbox import enqueue

    enqueue(kind, payload, delay=delay, dedupe_key=dedupe_key)


def queue_callbacks(sid: str, statuses: Iterable[str], **extra: str) -> None:
    """POSTed by the worker, one status after the other, as Twilio sends them after its own commit."""
    for order, status in enumerate(statuses):
        queue_job(
            "telephony.fake_twilio_callback",
            {"sid": sid, "status": status, **extra},
            delay=0.5 * order,
            dedupe_key=f"fake-twilio-callback:{sid}:{status}",
        )
