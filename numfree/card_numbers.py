"""Card numbers never get stored by accident.

Free text a user can type (name, greeting, notes, support messages) is saved
through these fields, which mask any Luhn-valid 13-19 digit sequence (spaces
or dashes allowed between digits) to its last four digits.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import models

_CANDIDATE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask_card_numbers(text: str) -> str:
    """Replace each card-like number with '•••• 1234' (its last four digits)."""

    def mask(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return "•••• " + digits[-4:]
        return match.group(0)

    return _CANDIDATE.sub(mask, text)


class _MaskCardNumbers:
    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)  # type: ignore[misc]
        return mask_card_numbers(value) if isinstance(value, str) else value

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = super().pre_save(model_instance, add)  # type: ignore[misc]
        if isinstance(value, str):
            value = mask_card_numbers(value)
            setattr(model_instance, self.attname, value)  # type: ignore[attr-defined]
        return value


class FreeTextCharField(_MaskCardNumbers, models.CharField):
    """A CharField for text a user types; card numbers are masked before saving."""


class FreeTextField(_MaskCardNumbers, models.TextField):
    """A TextField for text a user types; card numbers are masked before saving."""
