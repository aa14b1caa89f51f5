"""Checking a two-factor code: a TOTP code from the authenticator app, or a recovery code.

Every check first claims one attempt from the account's counter with a
conditional UPDATE (`failures < limit`), so however many requests arrive at
once, at most TWO_FACTOR_MAX_FAILURES codes are tried per window; a success
empties the counter. A TOTP code is accepted only for a time step later than
the last one accepted (`last_step < step`, one UPDATE), so a code cannot be
replayed within its window, and a recovery code is used up by deleting its
row: of two requests using the same code, one deletes it and the other finds
nothing.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
from datetime import datetime, timedelta

import pyotp
from django.conf import settings
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from numfree.mail import queue_email
from twofactor.keys import UnreadableSecret, open_secret, recovery_digests
from twofactor.models import Authenticator, RecoveryCode

TOTP_DIGITS = 6
STEP_SECONDS = 30
# Codes of the previous and the next time step are accepted too: phone clocks
# drift, and typing a code takes a while.
DRIFT_STEPS = 1
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i
RECOVERY_LENGTH = 12  # 31^12: about 59 bits

logger = logging.getLogger(__name__)

_TOTP_SHAPE = re.compile(rf"\d{{{TOTP_DIGITS}}}")
_RECOVERY_SHAPE = re.compile(rf"[{RECOVERY_ALPHABET}]{{{RECOVERY_LENGTH}}}")


class CodeRejected(Exception):
    """The code is wrong, expired or already used (the same answer for all three)."""


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many two-factor attempts; retry after {retry_after}s")
        self.retry_after = max(1, retry_after)


def normalize(code: str) -> str:
    """What people type, without spaces, dashes and capitals."""
    return re.sub(r"[\s-]", "", code).lower()


def enabled_authenticator(user: User) -> Authenticator | None:
    if not user.is_authenticated:
        return None
    return Authenticator.objects.enabled().filter(user=user).first()


def is_enabled(user: User) -> bool:
    return Authenticator.objects.enabled().filter(user=user).exists()


def totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=STEP_SECONDS)


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time step whose code this is (within the drift allowed), or None."""
    if not secret or not _TOTP_SHAPE.fullmatch(code):
        return None
    generator = totp(secret)
    current = generator.timecode(at)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(generator.at(at, counter_offset=offset), code):
            return current + offset
    return None


def claim_attempt(authenticator: Authenticator) -> None:
    """Count one attempt against the account, or raise TooManyAttempts."""
    now = timezone.now()
    window = timedelta(seconds=settings.TWO_FACTOR_FAILURE_WINDOW_SECONDS)
    Authenticator.objects.filter(pk=authenticator.pk, failures_since__lte=now - window).update(
        failures=0, failures_since=now
    )
    claimed = Authenticator.objects.filter(pk=authenticator.pk, failures__lt=settings.TWO_FACTOR_MAX_FAILURES).update(
        failures=F("failures") + 1
    )
    if not claimed:
        since = Authenticator.objects.filter(pk=authenticator.pk).values_list("failures_since", flat=True).first()
        ends = (since or now) + window
        raise TooManyAttempts(math.ceil((ends - now).total_seconds()))


def _secret(authenticator: Authenticator) -> str:
    try:
        return open_secret(authenticator.user_id, authenticator.secret_sealed)
    except UnreadableSecret:
        # TWO_FACTOR_KEYS lost its key: no TOTP code can match (recovery codes are hashed
        # with the same keys); a superuser can turn two-factor off in the admin.
        logger.error("a two-factor secret does not open with the configured keys (authenticator %s)", authenticator.pk)
        return ""


def _succeeded(authenticator: Authenticator, **changes: object) -> int:
    return Authenticator.objects.filter(pk=authenticator.pk).update(
        failures=0, failures_since=timezone.now(), **changes
    )


def check_code(user: User, code: str) -> str:
    """Accept a TOTP or recovery code of a user with two-factor on; returns "totp" or "recovery".

    Raises TooManyAttempts (before looking at the code) or CodeRejected.
    """
    authenticator = enabled_authenticator(user)
    if authenticator is None:
        raise CodeRejected("two-factor sign-in is not on for this account")
    claim_attempt(authenticator)
    typed = normalize(code)
    if _TOTP_SHAPE.fullmatch(typed):
        step = matching_step(_secret(authenticator), typed, timezone.now())
        if step is not None:
            accepted = Authenticator.objects.filter(pk=authenticator.pk, last_step__lt=step).update(
                last_step=step, failures=0, failures_since=timezone.now()
            )
            if accepted:
                return "totp"
    elif _RECOVERY_SHAPE.fullmatch(typed):
        used, _ = RecoveryCode.objects.filter(user=user, digest__in=recovery_digests(user.pk, typed)).delete()
        if used:
            _succeeded(authenticator)
            return "recovery"
    _alert_when_limit_reached(user, authenticator)
    raise CodeRejected("wrong, expired or already used")


def _alert_when_limit_reached(user: User, authenticator: Authenticator) -> None:
    """Tell the owner, once per window, that someone with their password is guessing codes."""
    row = (
        Authenticator.objects.filter(pk=authenticator.pk, failures__gte=settings.TWO_FACTOR_MAX_FAILURES)
        .values_list("failures_since", flat=True)
        .first()
    )
    if row is None:
        return
    # cache.add is atomic (SET NX on Redis): one email per window however many requests race here.
    if cache.add(
        f"twofactor-alert:{authenticator.pk}:{row.timestamp()}", 1, settings.TWO_FACTOR_FAILURE_WINDOW_SECONDS
    ):
        queue_email(
            to=user.email,
            subject="Someone is trying to sign in to your NumFree account",
            template="twofactor/email/codes_failed.txt",
            context={
                "name": user.name,
                "failures": settings.TWO_FACTOR_MAX_FAILURES,
                "reset_url": settings.PUBLIC_URL.rstrip("/") + "/password-reset/",
            },
        )


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user).count()
