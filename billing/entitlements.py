"""What a user's plan entitles them to. telephony/ asks here, never billing's models."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User


def can_hold_number(user: User) -> bool:
    """Whether the user may get (and keep) a NumFree number, forward and take voicemail."""
    return bool(user.is_active and user.email_verified)
