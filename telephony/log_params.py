"""Strict readers for the logs' query parameters: filter days and page cursors.

The dashboard pages, GET /api/calls/ and GET /api/messages/ read them here and
nowhere else. A value that is malformed, or that cannot be turned into a moment
the database and Python's datetime can hold (9999-12-31 plus a day, an offset
of -23:59 on the last second of year 9999, an id past 64 bits), raises
InvalidLogQuery naming the parameter: the API answers 400 {code, message}, the
dashboard a readable 400 page. Nothing half-parsed reaches a query.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

# A day filter becomes [start of day, start of next day) in the site's time
# zone; one day of margin on each side keeps both ends (and their conversion
# to UTC, offsets being under a day) inside datetime's range.
EARLIEST_DAY = date.min + timedelta(days=1)
LATEST_DAY = date.max - timedelta(days=1)
MAX_ID = 2**63 - 1  # BigAutoField
MAX_CURSOR_LENGTH = 120

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURSOR = re.compile(r"[A-Za-z0-9_-]+")
_ID = re.compile(r"[1-9]\d{0,18}")


class InvalidLogQuery(ValueError):
    """A query parameter the logs cannot use; the message names it and says what would do."""

    def __init__(self, param: str, problem: str) -> None:
        super().__init__(f"{param}: {problem}")
        self.param = param


class Position(NamedTuple):
    """Where a page starts: after the row at this moment with this id (newest first)."""

    moment: datetime
    pk: int


def read_day(query: Mapping[str, str], param: str) -> date | None:
    """The date in query[param] (YYYY-MM-DD), or None when it is absent or empty."""
    text = query.get(param, "")
    if not text:
        return None
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidLogQuery(param, "give a date as YYYY-MM-DD, like 2025-03-31.") from None
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidLogQuery(param, f"give a date between {EARLIEST_DAY} and {LATEST_DAY}.")
    return day


def encode_cursor(moment: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{moment.isoformat()}|{pk}".encode()).decode().rstrip("=")


def read_cursor(query: Mapping[str, str], param: str) -> Position | None:
    """The position in query[param] (a cursor from a `next` link), or None when it is absent or empty."""
    text = query.get(param, "")
    if not text:
        return None
    try:
        return _decode(text)
    except (ValueError, OverflowError):
        raise InvalidLogQuery(param, "not a cursor of ours; follow the next link as it was given.") from None


def _decode(text: str) -> Position:
    if len(text) > MAX_CURSOR_LENGTH or not _CURSOR.fullmatch(text):
        raise ValueError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("not base64url text") from None
    moment_text, _, pk_text = raw.partition("|")
    moment = datetime.fromisoformat(moment_text)
    if moment.tzinfo is None or not _ID.fullmatch(pk_text) or int(pk_text) > MAX_ID:
        raise ValueError("not a position")
    # In UTC now, so an offset that pushes it past year 9999 (or before year 1)
    # fails here rather than in the database adapter.
    return Position(moment.astimezone(UTC), int(pk_text))
