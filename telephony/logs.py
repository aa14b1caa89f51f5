"""Reading the call, message and voicemail logs: filters, keyset pages, exports.

Pages are keyset-paginated on (time, id) newest first, so page 500 costs the
same as page 1 on the (user, -time, -id) indexes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from telephony.log_params import Position, encode_cursor, read_day
from telephony.models import CallLog, SmsLog, Voicemail, normalize_number

PAGE_SIZE = 50


@dataclass(frozen=True)
class LogKind:
    name: str
    model: type
    time_field: str
    columns: list[str]
    statuses: list[str] = field(default_factory=list)
    has_direction: bool = True


CALLS = LogKind(
    "calls",
    CallLog,
    "started_at",
    [
        "started_at",
        "kind",
        "direction",
        "peer",
        "status",
        "answered_at",
        "ended_at",
        "duration_s",
        "end_reason",
        "missed",
    ],
    ["answered", "missed", "blocked"],
)
MESSAGES = LogKind(
    "messages",
    SmsLog,
    "created_at",
    [
        "created_at",
        "direction",
        "peer_number",
        "our_number",
        "status",
        "segments",
        "media_count",
        "blocked",
        "forwarded_at",
        "dropped",
    ],
    ["received", "forwarded", "blocked", "dropped", "queued", "sent", "delivered", "undelivered", "failed"],
)
VOICEMAIL = LogKind(
    "voicemail", Voicemail, "created_at", ["created_at", "peer_number", "duration_s", "heard"], ["new", "heard"], False
)
KINDS = {kind.name: kind for kind in (CALLS, MESSAGES, VOICEMAIL)}


@dataclass
class Filters:
    direction: str = ""
    status: str = ""
    number: str = ""
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_query(cls, kind: LogKind, query: Any) -> Filters:
        """The filters in a page's query string; a bad date raises log_params.InvalidLogQuery."""
        direction = query.get("direction", "")
        status = query.get("status", "")
        return cls(
            direction=direction if direction in {"in", "out"} and kind.has_direction else "",
            status=status if status in kind.statuses else "",
            number="".join(ch for ch in query.get("number", "") if ch.isdigit() or ch == "+")[:16],
            since=read_day(query, "since"),
            until=read_day(query, "until"),
        )

    def as_query(self) -> dict[str, str]:
        values = {
            "direction": self.direction,
            "status": self.status,
            "number": self.number,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {key: value for key, value in values.items() if value}


def _status_filter(kind: LogKind, status: str) -> Q:
    if kind is CALLS:
        return {
            "answered": Q(answered_at__isnull=False),
            "missed": Q(missed=True, blocked=False),
            "blocked": Q(blocked=True),
        }[status]
    if kind is MESSAGES:
        special = {
            "forwarded": Q(forwarded_at__isnull=False),
            "blocked": Q(blocked=True),
            "dropped": Q(dropped=True),
        }
        return special.get(status, Q(status=status))
    return Q(heard=(status == "heard"))


def filtered(kind: LogKind, user: Any, filters: Filters) -> QuerySet:
    """The user's rows matching the filters, newest first."""
    rows = kind.model.objects.filter(user=user)
    if filters.direction:
        rows = rows.filter(direction=filters.direction)
    if filters.status:
        rows = rows.filter(_status_filter(kind, filters.status))
    if filters.number:
        exact = normalize_number(filters.number)
        # A whole number uses the (user, peer_number, time) index; a fragment searches.
        rows = rows.filter(peer_number=exact) if exact else rows.filter(peer_number__contains=filters.number)
    if filters.since:
        rows = rows.filter(**{f"{kind.time_field}__gte": _start_of(filters.since)})
    if filters.until:
        rows = rows.filter(**{f"{kind.time_field}__lt": _start_of(filters.until + timedelta(days=1))})
    if kind is CALLS:
        rows = rows.select_related("peer_user")
    return rows.order_by(f"-{kind.time_field}", "-id")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def page(
    kind: LogKind, rows: QuerySet, after: Position | None = None, size: int = PAGE_SIZE
) -> tuple[list[Any], str | None]:
    """One page after the position (log_params.read_cursor) and the cursor of the next page (None at the end)."""
    if after:
        time_field = kind.time_field
        rows = rows.filter(
            Q(**{f"{time_field}__lt": after.moment}) | Q(**{time_field: after.moment, "id__lt": after.pk})
        )
    items = list(rows[: size + 1])
    if len(items) <= size:
        return items, None
    items = items[:size]
    last = items[-1]
    return items, encode_cursor(getattr(last, kind.time_field), last.pk)


def row_values(kind: LogKind, row: Any, names: dict[str, str] | None = None) -> dict[str, Any]:
    """One row as exported: its columns (numbers in E.164), then the name the user gave the number."""
    values: dict[str, Any] = {"id": row.pk}
    for column in kind.columns:
        value = getattr(row, column)
        values[column] = value.isoformat() if isinstance(value, datetime) else value
    values["peer_name"] = (names or {}).get(getattr(row, "peer_number", ""), "")
    return values


def export_csv(kind: LogKind, rows: QuerySet, names: dict[str, str] | None = None) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["id", *kind.columns, "peer_name"]
    writer.writerow(header)
    for row in rows.iterator(chunk_size=2000):
        values = row_values(kind, row, names)
        writer.writerow([csv_cell(values[column]) for column in header])
        if buffer.tell() > 32_000:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# OWASP's "CSV Injection": a spreadsheet reads a cell starting with one of
# these as a formula. A whole E.164 number (+ and 2-15 ASCII digits) is left
# as it is: at worst a spreadsheet shows it as a plain number.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")


def csv_cell(value: Any) -> Any:
    """A cell value a spreadsheet shows as text: a would-be formula gets a leading single quote."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS) and not _E164.fullmatch(value):
        return "'" + value
    return value


def export_json(kind: LogKind, rows: QuerySet, names: dict[str, str] | None = None) -> Iterator[str]:
    yield "["
    first = True
    for row in rows.iterator(chunk_size=2000):
        yield ("" if first else ",") + json.dumps(row_values(kind, row, names))
        first = False
    yield "]\n"
