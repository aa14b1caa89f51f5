"""Turning two-factor sign-in on and off, and making new recovery codes.

Only accounts with a confirmed email address may turn it on. Turning it on
needs a code from the app (proof the secret was copied), ends the account's
extension sign-ins made with the password alone, and shows ten recovery codes
once; only their hashes are kept. Every change is told to the account's
address, so a stranger turning it off cannot go unnoticed.
"""

from __future__ import annotations

import secrets

import pyotp
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.sign_ins import revoke_all
from numfree.mail import queue_email
from twofactor.keys import UnreadableSecret, open_secret, recovery_digests, seal_secret
from twofactor.models import Authenticator, RecoveryCode
from twofactor.verification import (
    RECOVERY_ALPHABET,
    RECOVERY_LENGTH,
    CodeRejected,
    claim_attempt,
    matching_step,
    normalize,
    totp,
)

RECOVERY_CODE_COUNT = 10
# SignIn.revoked_reason of extension sign-ins ended when two-factor is turned on.
REVOKED_TWO_FACTOR = "two_factor_enabled"


class NotAllowed(Exception):
    """Two-factor sign-in cannot be turned on for this account (email not confirmed)."""


class AlreadyEnabled(Exception):
    """Two-factor sign-in is already on."""


def pending_secret(user: User) -> str:
    """The secret being set up (made on first call, the same one until confirmed)."""
    if not user.email_verified:
        raise NotAllowed("confirm your email address first")
    authenticator, _ = Authenticator.objects.get_or_create(
        user=user, defaults={"secret_sealed": seal_secret(user.pk, pyotp.random_base32())}
    )
    if authenticator.is_enabled:
        raise AlreadyEnabled("two-factor sign-in is already on")
    try:
        return open_secret(user.pk, authenticator.secret_sealed)
    except UnreadableSecret:
        # Sealed with a key no longer configured, and never confirmed: start again.
        secret = pyotp.random_base32()
        Authenticator.objects.filter(pk=authenticator.pk, confirmed_at__isnull=True).update(
            secret_sealed=seal_secret(user.pk, secret)
        )
        return secret


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// URI the QR code holds."""
    return totp(secret).provisioning_uri(name=user.email, issuer_name=settings.TWO_FACTOR_ISSUER)


def confirm(user: User, code: str) -> tuple[Authenticator, list[str]]:
    """Turn two-factor on with a first code from the app; returns it and the recovery codes to show once.

    Raises NotAllowed, AlreadyEnabled, CodeRejected or TooManyAttempts.
    """
    if not user.email_verified:
        raise NotAllowed("confirm your email address first")
    authenticator = Authenticator.objects.filter(user=user).first()
    if authenticator is None:
        raise CodeRejected("no secret was set up")
    if authenticator.is_enabled:
        raise AlreadyEnabled("two-factor sign-in is already on")
    claim_attempt(authenticator)
    step = matching_step(pending_secret(user), normalize(code), timezone.now())
    if step is None:
        raise CodeRejected("wrong or expired")
    now = timezone.now()
    with transaction.atomic():
        turned_on = Authenticator.objects.filter(
            pk=authenticator.pk, confirmed_at__isnull=True, last_step__lt=step
        ).update(confirmed_at=now, last_step=step, failures=0, failures_since=now)
        if not turned_on:
            raise AlreadyEnabled("two-factor sign-in was turned on by another request")
        codes = _replace_recovery_codes(user)
        # Extension sign-ins made with the password alone end; sign in again with a code.
        revoke_all(user, REVOKED_TWO_FACTOR)
        _notify(user, "on")
    authenticator.refresh_from_db()
    return authenticator, codes


def new_recovery_codes(user: User) -> list[str]:
    """Replace the recovery codes (the caller has checked a code); returns the new ones to show once."""
    with transaction.atomic():
        return _replace_recovery_codes(user)


def _replace_recovery_codes(user: User) -> list[str]:
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH)) for _ in range(RECOVERY_CODE_COUNT)
    ]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, digest=recovery_digests(user.pk, code)[0]) for code in codes]
    )
    return [display(code) for code in codes]


def display(code: str) -> str:
    """A recovery code as shown: three groups of four."""
    code = normalize(code)
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def disable(user: User) -> bool:
    """Turn two-factor off (the caller has checked the password and a code). Returns False if it was off."""
    with transaction.atomic():
        was_on = Authenticator.objects.enabled().filter(user=user).exists()
        Authenticator.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        if was_on:
            _notify(user, "off")
    return was_on


def _notify(user: User, state: str) -> None:
    queue_email(
        to=user.email,
        subject=f"Two-factor sign-in is {state} for your NumFree account",
        template="twofactor/email/changed.txt",
        context={
            "name": user.name,
            "state": state,
            "reset_url": settings.PUBLIC_URL.rstrip("/") + "/password-reset/",
        },
    )
