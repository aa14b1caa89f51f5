"""Getting, holding and releasing a NumFree number (one per account for now)."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from billing.entitlements import SERVICE_RELATED, can_hold_number
from numfree.outbox import PermanentFailure
from telephony import twilio_api
from telephony.models import BlockedNumber, PhoneNumber

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)
MAX_NUMBERS_PER_ACCOUNT = 1
# Longer than a purchase can take (Twilio's timeout), so the lock outlives it;
# a process that dies mid-purchase blocks that user's next one this long.
BUYING_LOCK_SECONDS = 60


class NumberError(Exception):
    """A reason the user can read and the error code that goes with it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def current_number(user: User) -> str | None:
    """The user's NumFree number in E.164, or None."""
    return PhoneNumber.objects.filter(user=user).order_by("bought_at").values_list("e164", flat=True).first()


def _check_may_hold(user: User) -> None:
    if not user.email_verified:
        raise NumberError("email_unverified", "Confirm your email address before getting a number.")
    if not can_hold_number(user):
        raise NumberError("plan_required", "Getting a number needs an active plan.")


def search(user: User, country: str, area_code: str) -> list[twilio_api.AvailableNumber]:
    _check_may_hold(user)
    if country not in settings.NUMBER_COUNTRIES:
        raise NumberError("invalid", f"Numbers are available in: {', '.join(settings.NUMBER_COUNTRIES)}.")
    if not re.fullmatch(r"\d{3}", area_code):
        raise NumberError("invalid", "An area code is three digits.")
    try:
        return twilio_api.search_numbers(country, area_code)
    except twilio_api.TelephonyError as exc:
        raise NumberError("telephony_unavailable", str(exc)) from None


def buy(user: User, e164: str, country: str) -> PhoneNumber:
    """Buy a number for the user, webhooks pointing at us."""
    _check_may_hold(user)
    if not re.fullmatch(r"\+\d{8,15}", e164) or country not in settings.NUMBER_COUNTRIES:
        raise NumberError("invalid", "Pick a number from the search results.")
    # One purchase at a time per account, in every process (cache.add is atomic
    # and the cache is shared in production): between counting the user's
    # numbers and saving the new one there is a call to Twilio, and two
    # submits at once would otherwise both pass the count and both buy.
    buying = f"telephony.buying-number:{user.pk}"
    if not cache.add(buying, 1, timeout=BUYING_LOCK_SECONDS):
        raise NumberError("number_limit", "A number is already being bought for you; wait a moment.")
    try:
        return _buy(user, e164, country)
    finally:
        cache.delete(buying)


def _buy(user: User, e164: str, country: str) -> PhoneNumber:
    if PhoneNumber.objects.filter(user=user).count() >= MAX_NUMBERS_PER_ACCOUNT:
        raise NumberError("number_limit", "You already have a number; release it first to get another.")
    try:
        bought = twilio_api.buy_number(e164)
    except twilio_api.NumberUnavailable:
        raise NumberError("number_unavailable", "Someone else just took that number; pick another.") from None
    except twilio_api.TelephonyError as exc:
        raise NumberError("telephony_unavailable", str(exc)) from None
    try:
        with transaction.atomic():
            number = PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country=country)
    except IntegrityError:
        # A double submit bought a second number: give it straight back.
        twilio_api.release_number(bought.sid)
        raise NumberError("number_limit", "You already have a number.") from None
    logger.info("number bought for user %s", user.pk)
    return number


def release_number(user: User) -> int:
    """Release every number the user holds, at Twilio and here; returns how many.

    Billing calls it when a plan ends and privacy when an account is erased.
    """
    released = 0
    for number in PhoneNumber.objects.filter(user=user):
        twilio_api.release_number(number.twilio_sid)
        number.delete()
        released += 1
    if released:
        logger.info("numbers released for user %s: %d", user.pk, released)
    return released


def forget_numbers(user: User) -> list[str]:
    """Erasure: the user's number rows go now; returns their Twilio sids, released later by a job."""
    numbers = PhoneNumber.objects.filter(user=user)
    sids = list(numbers.values_list("twilio_sid", flat=True))
    numbers.delete()
    return sids


def release_at_twilio(payload: dict) -> None:
    """Outbox job: release a number at Twilio (already released counts as done)."""
    try:
        twilio_api.release_number(payload["sid"])
    except twilio_api.TwilioUnreachable:
        raise
    except twilio_api.TelephonyError as exc:
        raise PermanentFailure(f"Twilio refused to release a number (error {exc.code})") from None


def owner_of(e164: str) -> PhoneNumber | None:
    """The number row a webhook's To (or From) names, with its user."""
    return PhoneNumber.objects.select_related("user").filter(e164=e164).first()


def recipient_of(e164: str, sender: str) -> PhoneNumber | None:
    """owner_of for an inbound text or call, in one SELECT: the number, its user, the user's
    billing state (for can_hold_number_loaded(number.user), no query) and `sender_blocked`,
    whether the user blocked `sender`."""
    blocked = BlockedNumber.objects.filter(user_id=OuterRef("user_id"), number=sender)
    rows = (
        PhoneNumber.objects.select_related("user", f"user__{SERVICE_RELATED}")
        .annotate(sender_blocked=Exists(blocked))
        .filter(e164=e164)[:1]  # e164 is unique: no ORDER BY needed
    )
    return next(iter(rows), None)
