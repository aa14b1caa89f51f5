"""What a user's plan entitles them to. telephony/ asks here, never billing's models.

A plan entitles its holder to a number, call forwarding and voicemail.
App-to-app calls through the extension are free and are not asked about.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from billing.models import BillingAccount

if TYPE_CHECKING:
    from accounts.models import User


# The user's relation holding the billing state: a query that select_related()s it with the
# user (e.g. "user__" + SERVICE_RELATED) can then ask can_hold_number_loaded, with no SELECT.
SERVICE_RELATED = "billing"


def can_hold_number(user: User) -> bool:
    """Whether the user may get a number and be served on it (forwarding, texts to email, voicemail).

    True for a verified, active account whose subscription is active or
    trialing, or past due within the grace period. When this turns False the
    number is not released: it is held (see number_held_until) and only
    billing's hold job releases it.
    """
    if not (user.is_active and user.email_verified):
        return False
    return _serves(BillingAccount.objects.filter(user=user).first())


def can_hold_number_loaded(user: User) -> bool:
    """can_hold_number for a user read with select_related(SERVICE_RELATED) in the same query
    (the inbound-SMS webhook's one SELECT): the same answer, no query of its own."""
    if not (user.is_active and user.email_verified):
        return False
    return _serves(getattr(user, SERVICE_RELATED, None))


def _serves(account: BillingAccount | None) -> bool:
    return account is not None and account.has_service()


def number_held_until(user: User) -> datetime | None:
    """When the user's number will be released if they do not resubscribe; None while service runs."""
    account = BillingAccount.objects.filter(user=user).first()
    if account is None or account.has_service():
        return None
    return account.number_held_until()
