"""A person's display name is one line of visible text: no line breaks, controls or bidi overrides.

Names are shown on pages and in emails, so a name that breaks lines or
reorders text could dress itself up as our own words. One validator serves the
web forms (through the model field) and the API serializer alike.

Refused: every character of Unicode categories Cc (controls, tabs, newlines),
Cf (format: bidi embeddings, overrides and isolates, marks, soft hyphen, BOM,
tags), Zl and Zp (line and paragraph separators), except the zero-width
joiner and non-joiner (U+200D, U+200C): Persian and Indic names and emoji
sequences need them to be spelled, and they cannot reorder or break text.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})

MESSAGE = "Use one line of plain text: no line breaks, tabs or invisible control characters."


def is_refused(char: str) -> bool:
    return unicodedata.category(char) in _REFUSED_CATEGORIES and char not in _ALLOWED_FORMAT


def validate_display_name(value: str) -> None:
    if any(is_refused(char) for char in value):
        raise ValidationError(MESSAGE, code="name_control_characters")


def single_line(value: str) -> str:
    """The name with refused characters made spaces and runs of spaces made one (for names stored before the rule)."""
    spaced = "".join(" " if is_refused(char) else char for char in value)
    return re.sub(" {2,}", " ", spaced).strip()
