"""Log filter that keeps personal data and secrets out of every log line.

Tokens (JWTs, signed links), email addresses and long digit runs (phone or
card numbers) are masked before a record is written, whoever logged it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

_PATTERNS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # JSON Web Tokens (access and refresh tokens).
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[token]"),
    # Signed links: /verify-email/<token>/, /reset/<uid>/<token>/ and the like.
    (re.compile(r"(/(?:verify-email|confirm-email|reset)/)[^\s\"']+"), r"\1[redacted]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    # Phone and card-like numbers: keep the last four digits only.
    (re.compile(r"(?<![\w])\+?\d(?:[ -]?\d){8,}"), lambda m: "[number …" + re.sub(r"\D", "", m.group(0))[-4:] + "]"),
]


def scrub(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ScrubPersonalData(logging.Filter):
    """Rewrites the formatted message (and exception text) of each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        record.msg = scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True
