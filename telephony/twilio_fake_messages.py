"""The fake Twilio's messages: sending, listing (the Messages list, filtered and paged as Twilio's),
media, deleting, and what the phone network does with a text (one arrives for our number; the
carrier takes one we sent). A mixin of telephony/twilio_fake.py's HTTP client, plus the functions
the simulation panel and tests call. Like Twilio, it keeps a message, body included, until NumFree
deletes it there.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

from twilio.http.response import Response

from numfree import fake_store
from telephony.twilio_fake_records import (
    API,
    PROVIDER,
    error,
    get,
    new_sid,
    number_in_use,
    ok,
    queue_callbacks,
    queue_job,
    rfc2822,
    store,
)

# Twilio holds a message it is still receiving or sending; deleting it then
# fails with error 20009 until it reaches a final state.
IN_PROGRESS = {"accepted", "queued", "sending", "receiving"}
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


class MessageEndpoints:
    """The Messages endpoints of FakeTwilioHttpClient (which gives account_sid and _uri)."""

    account_sid: str

    def _uri(self, rest: str) -> str:
        raise NotImplementedError

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
            return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in MAGIC_RECIPIENTS:
            return error(400, *MAGIC_RECIPIENTS[to])
        if not number_in_use(from_):
            return error(
                400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number for your account."
            )
        body = fields.get("Body", "")
        if not body:
            return error(400, 21602, "Message body is required.")
        sid = new_sid("SM")
        data = {
            "direction": "outbound-api",
            "from": from_,
            "to": to,
            "status": "queued",
            "num_segments": max(1, -(-len(body) // 153) if len(body) > 160 else 1),
            "num_media": 0,
            "date_created": rfc2822(),
            "date_created_ts": time.time(),
            "status_callback": fields.get("StatusCallback", ""),
            "account_sid": self.account_sid,
            # Twilio's side holds the body until the message is deleted there; NumFree never stores it.
            "body": body,
        }
        store("message", sid, data)
        # Twilio answers "queued" at once and carries the text on a moment later, after its own commit.
        fake_store.on_commit(lambda: queue_job("telephony.fake_twilio_finish", {"sid": sid}, CARRIER_DELAY_SECONDS))
        return ok(self._message_json(sid, data), 201)

    def _list_messages(self, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        """Messages, newest first, filtered by To, From and DateSent (a day, or >= / < a time), in
        pages of PageSize; next_page_uri carries a PageToken cursor, so deleting the texts of one
        page while paging skips none of the next."""
        size = max(1, min(int(query.get("PageSize") or 50), 1000))
        page = int(query.get("Page") or 0)
        filters = {name: query[key] for key, name in (("To", "to"), ("From", "from")) if query.get(key)}
        rows = [row for row in fake_store.find(PROVIDER, "message", **filters) if _sent_in(row.data, query)]
        rows.sort(key=_newest_first)
        cursor = query.get("PageToken", "")
        if cursor.startswith("PA") and "-" in cursor:
            stamp, sid = cursor[2:].split("-", 1)
            last = (-float(stamp), _reverse_sid(sid))
            rows = [row for row in rows if _newest_first(row) > last]
        chunk = rows[:size]
        base = {
            key: value for key, value in query.items() if key in {"To", "From", "DateSent", "DateSent>", "DateSent<"}
        }
        uri = self._uri("Messages.json")
        first_page_uri = f"{uri}?{urlencode({**base, 'PageSize': size, 'Page': 0})}"
        next_page_uri = None
        if len(rows) > size:
            last_row = chunk[-1]
            token = f"PA{-_newest_first(last_row)[0]!r}-{last_row.id}"
            next_page_uri = f"{uri}?{urlencode({**base, 'PageSize': size, 'Page': page + 1, 'PageToken': token})}"
        return ok(
            {
                "messages": [self._message_json(row.id, row.data) for row in chunk],
                "end": page * size + len(chunk) - 1,
                "first_page_uri": first_page_uri,
                "next_page_uri": next_page_uri,
                "page": page,
                "page_size": size,
                "previous_page_uri": None,
                "start": page * size,
                "uri": f"{uri}?{urlencode({**base, 'PageSize': size, 'Page': page})}",
            }
        )

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
        return ok(
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
        media = get("media", media_sid)
        if media is None or media.data["parent_sid"] != message_sid:
            return error(404, 20404, "The requested resource was not found")
        fake_store.delete(PROVIDER, media_sid)
        return Response(204, "")

    def _delete_message(self, sid: str, *, query: dict[str, str], fields: dict[str, str]) -> Response:
        row = get("message", sid)
        if row is None:
            return error(404, 20404, f"The requested resource {self._uri(f'Messages/{sid}.json')} was not found")
        if row.data["status"] in IN_PROGRESS:
            # Twilio finishes the message a moment later; the next attempt succeeds.
            finish_message(sid)
            return error(409, 20009, "Cannot delete message because delivery has not been completed.")
        fake_store.delete_where(PROVIDER, "media", parent_sid=sid)
        fake_store.delete(PROVIDER, sid)
        return Response(204, "")


def _sent_in(data: dict[str, Any], query: dict[str, str]) -> bool:
    """Twilio's DateSent filters: `DateSent` a day (YYYY-MM-DD), `DateSent>` on or after and
    `DateSent<` before a day or an ISO 8601 time (UTC)."""
    stamp = data.get("date_sent_ts")
    if stamp is None:
        return not any(query.get(key) for key in ("DateSent", "DateSent>", "DateSent<"))
    sent = datetime.fromtimestamp(stamp, UTC)
    if query.get("DateSent") and sent.date().isoformat() != query["DateSent"][:10]:
        return False
    if query.get("DateSent>") and sent < _moment(query["DateSent>"]):
        return False
    return not (query.get("DateSent<") and sent >= _moment(query["DateSent<"]))


def _moment(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _reverse_sid(sid: str) -> tuple[int, ...]:
    return tuple(-ord(char) for char in sid)


def _newest_first(row: fake_store.Resource) -> tuple[float, tuple[int, ...]]:
    return (-float(row.data.get("date_sent_ts") or row.data.get("date_created_ts") or 0.0), _reverse_sid(row.id))


def receive_message(
    account_sid: str, from_: str, to: str, media: list[tuple[bytes, str]] | None = None, body: str = ""
) -> tuple[str, list[str]]:
    """Twilio received a text for one of our numbers: returns (MessageSid, media URLs).

    The message stays "receiving" until its first delete attempt, like a real
    one whose processing has not finished yet. Like Twilio, the fake keeps the body
    (the Messages list shows it) until NumFree deletes the message.
    """
    sid = new_sid("MM" if media else "SM")
    now = rfc2822()
    store(
        "message",
        sid,
        {
            "direction": "inbound",
            "from": from_,
            "to": to,
            "status": "receiving",
            "date_created": now,
            "date_sent": now,
            "date_sent_ts": time.time(),
            "num_media": len(media or []),
            "body": body,
        },
    )
    urls = []
    for content, content_type in media or []:
        media_sid = new_sid("ME")
        store("media", media_sid, {"parent_sid": sid, "content_type": content_type, "date_created": now}, content)
        urls.append(f"{API}/2010-04-01/Accounts/{account_sid}/Messages/{sid}/Media/{media_sid}")
    return sid, urls


def finish_message(sid: str, status: str | None = None) -> str | None:
    """Twilio is done with a message: it moves to a final status (by default the one its
    direction reaches: delivered or received) and can be deleted. A text we sent reports
    `sent`, then its final status, to its StatusCallback. Returns the new status."""
    with fake_store.transaction():
        row = get("message", sid)
        if row is None:
            return None
        current = row.data["status"]
        if current not in IN_PROGRESS:
            return current
        final = status or _FINAL_AFTER[current]
        store("message", sid, {**row.data, "status": final})
        _hand_over(sid, row.data, final)
        if row.data.get("status_callback"):
            steps = ["sent", final] if final in {"delivered", "undelivered"} else [final]
            fake_store.on_commit(lambda: queue_callbacks(sid, steps))
    return final


def finish_message_job(payload: dict[str, Any]) -> None:
    """Outbox job telephony.fake_twilio_finish: the carrier takes the text."""
    finish_message(payload["sid"])


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
        if row.data["status"] in IN_PROGRESS or row.data["status"] == "sent"
    ]
    rows = sorted([*delivered, *on_the_way], key=lambda row: row.data["date_created_ts"], reverse=True)
    return [{"sid": row.id, "sent_at": parsedate_to_datetime(row.data["date_created"]), **row.data} for row in rows]


def _hand_over(sid: str, data: dict[str, Any], status: str) -> None:
    """The carrier delivered a text: the recipient's phone (simulated) now shows it."""
    if status != "delivered" or data.get("direction") != "outbound-api":
        return
    store(
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
