"""Signed, expiring email links: confirming a new account's address and an email change.

A link carries the user's id and the address it confirms, signed with
django.core.signing (one salt per purpose) and valid for
settings.EMAIL_VERIFICATION_MAX_AGE. It confirms only that address: once the
account's address (or its pending new address) is another one, the link is
refused, so an old link can never verify a later address.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from numfree.mail import queue_email

VERIFY_SALT = "numfree.accounts.verify-email"
CHANGE_SALT = "numfree.accounts.confirm-email-change"


class LinkError(Exception):
    """A link that cannot be used; `kind` says why (one of the constants below)."""

    EXPIRED = "expired"
    INVALID = "invalid"
    STALE = "stale"
    TAKEN = "taken"

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass(frozen=True)
class LinkTarget:
    user_id: int
    email: str


def _signer(salt: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=salt)


def make_token(user: User, email: str, salt: str) -> str:
    return _signer(salt).sign_object({"u": user.pk, "e": email.strip().lower()})


def read_token(token: str, salt: str) -> LinkTarget:
    max_age = settings.EMAIL_VERIFICATION_MAX_AGE
    try:
        data = _signer(salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(LinkError.EXPIRED) from None
    except (signing.BadSignature, ValueError):
        raise LinkError(LinkError.INVALID) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int) or not isinstance(data.get("e"), str):
        raise LinkError(LinkError.INVALID)
    return LinkTarget(user_id=data["u"], email=data["e"])


def _absolute(path: str) -> str:
    return settings.PUBLIC_URL.rstrip("/") + path


def _valid_days() -> int:
    return max(1, settings.EMAIL_VERIFICATION_MAX_AGE.days)


def verification_link(user: User) -> str:
    return _absolute(reverse("verify-email", args=[make_token(user, user.email, VERIFY_SALT)]))


def email_change_link(user: User) -> str:
    return _absolute(reverse("confirm-email", args=[make_token(user, user.pending_email, CHANGE_SALT)]))


def send_verification(user: User) -> None:
    """Queue the link that confirms the account's current address."""
    queue_email(
        to=user.email,
        subject="Confirm your email address for NumFree",
        template="accounts/email/verify.txt",
        context={"name": user.name, "link": verification_link(user), "days": _valid_days()},
    )


def send_email_change_link(user: User) -> None:
    """Queue the link that makes the pending address the account's address."""
    queue_email(
        to=user.pending_email,
        subject="Confirm your new email address for NumFree",
        template="accounts/email/confirm_change.txt",
        context={"name": user.name, "link": email_change_link(user), "days": _valid_days()},
    )


def resend(user: User) -> list[str]:
    """Send again every link the user still needs; returns which ones ("verify", "change")."""
    sent = []
    if not user.email_verified:
        send_verification(user)
        sent.append("verify")
    if user.pending_email:
        send_email_change_link(user)
        sent.append("change")
    return sent


def request_email_change(user: User, new_email: str) -> None:
    """Ask for `new_email` to become the account's address once it is confirmed.

    The old address is told. When the new address already belongs to another
    account, its owner is told instead and nothing changes: the person asking
    sees the same answer either way, so nobody can probe who has an account.
    """
    new_email = User.objects.normalize_email(new_email).strip()
    with transaction.atomic():
        if User.objects.filter(email__iexact=new_email).exclude(pk=user.pk).exists():
            queue_email(
                to=new_email,
                subject="This address already has a NumFree account",
                template="accounts/email/change_to_existing.txt",
                context={"login_url": _absolute(reverse("login")), "reset_url": _absolute(reverse("password-reset"))},
            )
            return
        user.pending_email = new_email
        user.save(update_fields=["pending_email"])
        send_email_change_link(user)
        queue_email(
            to=user.email,
            subject="Your NumFree email address is being changed",
            template="accounts/email/change_notice.txt",
            context={
                "name": user.name,
                "new_email": new_email,
                "account_url": _absolute(reverse("account")),
                "reset_url": _absolute(reverse("password-reset")),
            },
        )


def cancel_email_change(user: User) -> None:
    user.pending_email = ""
    user.save(update_fields=["pending_email"])


def _locked_user(target: LinkTarget) -> User:
    try:
        return User.objects.select_for_update().get(pk=target.user_id)
    except User.DoesNotExist:
        raise LinkError(LinkError.INVALID) from None


def verify_email(token: str) -> User:
    """Mark the account's address as confirmed, if the link is for that address."""
    target = read_token(token, VERIFY_SALT)
    with transaction.atomic():
        user = _locked_user(target)
        if user.email.lower() != target.email:
            raise LinkError(LinkError.STALE)
        if not user.email_verified:
            user.email_verified = True
            user.save(update_fields=["email_verified"])
    return user


def confirm_email_change(token: str) -> User:
    """Make the pending address the account's (confirmed) address."""
    target = read_token(token, CHANGE_SALT)
    try:
        with transaction.atomic():
            user = _locked_user(target)
            if not user.pending_email and user.email.lower() == target.email:
                return user  # this link was already used
            if user.pending_email.lower() != target.email:
                raise LinkError(LinkError.STALE)
            if User.objects.filter(email__iexact=target.email).exclude(pk=user.pk).exists():
                raise LinkError(LinkError.TAKEN)
            user.email = user.pending_email
            user.pending_email = ""
            user.email_verified = True
            user.save(update_fields=["email", "pending_email", "email_verified"])
    except IntegrityError:
        # Someone signed up with this address between the check and the save.
        raise LinkError(LinkError.TAKEN) from None
    return user
