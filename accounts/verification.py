"""Signed, expiring email links: confirming a new account's address and an email change.

A link carries the user's id, the key of the address it confirms and a
fingerprint of the account's state when it was sent (an HMAC of the password
hash, the address, the pending address and whether the address is
confirmed), signed with django.core.signing (one salt per purpose) and valid
for settings.EMAIL_VERIFICATION_MAX_AGE. When any of that state changes (a
password change or reset, another address, a newer or cancelled change, a
confirmation) every link sent before is refused as stale, so a link kept by
someone else can never be used later.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.email_identity import email_key, parse_email
from accounts.models import User
from numfree.mail import queue_email

VERIFY_SALT = "numfree.accounts.verify-email"
CHANGE_SALT = "numfree.accounts.confirm-email-change"
STATE_SALT = "numfree.accounts.link-state"


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
    email: str  # the key of the address the link confirms
    state: str


def state_fingerprint(user: User) -> str:
    """Changes whenever the password, the address, the pending address or the confirmed flag does."""
    pending = email_key(user.pending_email) if user.pending_email else ""
    state = f"{user.pk}|{user.password}|{email_key(user.email)}|{pending}|{int(user.email_verified)}"
    return salted_hmac(STATE_SALT, state).hexdigest()[:32]


def _signer(salt: str) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=salt)


def make_token(user: User, email: str, salt: str) -> str:
    return _signer(salt).sign_object({"u": user.pk, "e": email_key(email), "s": state_fingerprint(user)})


def read_token(token: str, salt: str) -> LinkTarget:
    max_age = settings.EMAIL_VERIFICATION_MAX_AGE
    try:
        data = _signer(salt).unsign_object(token, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkError(LinkError.EXPIRED) from None
    except (signing.BadSignature, ValueError):
        raise LinkError(LinkError.INVALID) from None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise LinkError(LinkError.INVALID)
    if not isinstance(data.get("e"), str) or not isinstance(data.get("s"), str):
        raise LinkError(LinkError.INVALID)  # also links sent before links carried the state
    return LinkTarget(user_id=data["u"], email=data["e"], state=data["s"])


def _issued_for_this_state(user: User, target: LinkTarget) -> bool:
    return constant_time_compare(state_fingerprint(user), target.state)


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
    # The address is not confirmed yet: nothing the person who typed it chose goes in.
    queue_email(
        to=user.email,
        subject="Confirm your email address for NumFree",
        template="accounts/email/verify.txt",
        context={"link": verification_link(user), "days": _valid_days()},
    )


def send_email_change_link(user: User) -> None:
    """Queue the link that makes the pending address the account's address.

    When that address already belongs to another account, its owner is told
    so instead: the person asking cannot tell the two cases apart. Either
    mail goes to an unconfirmed address, so it carries no text they chose.
    """
    if User.objects.by_email(user.pending_email).exclude(pk=user.pk).exists():
        queue_email(
            to=user.pending_email,
            subject="This address already has a NumFree account",
            template="accounts/email/change_to_existing.txt",
            context={"login_url": _absolute(reverse("login")), "reset_url": _absolute(reverse("password-reset"))},
        )
        return
    queue_email(
        to=user.pending_email,
        subject="Confirm your new email address for NumFree",
        template="accounts/email/confirm_change.txt",
        context={"link": email_change_link(user), "days": _valid_days()},
    )


def resend(user: User) -> list[str]:
    """Send again every link the user still needs; returns which ones ("verify", "change")."""
    sent = []
    if not user.email_verified:
        send_verification(user)
        sent.append("verify")
    elif user.pending_email:
        send_email_change_link(user)
        sent.append("change")
    return sent


class EmailChangeRefused(Exception):
    """Only an account whose address is confirmed can move to another address."""


def request_email_change(user: User, new_email: str) -> None:
    """Ask for `new_email` to become the account's address once it is confirmed.

    The pending address is stored and shown whether or not it already has an
    account (send_email_change_link tells that account's owner instead of
    sending a link), and the old address is told: the person asking sees the
    same answer either way, so nobody can probe who has an account.
    Raises EmailChangeRefused for an account whose own address is unconfirmed:
    whoever signed it up may not own that address.
    """
    if not user.email_verified:
        raise EmailChangeRefused
    new_email = parse_email(new_email).address
    with transaction.atomic():
        user.pending_email = new_email
        user.save(update_fields=["pending_email"])
        send_email_change_link(user)
        queue_email(
            to=user.email,
            subject="Your NumFree email address is being changed",
            template="accounts/email/change_notice.txt",
            context={
                "name": user.mail_greeting_name,
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
    """Mark the account's address as confirmed, if the link was sent for the account as it is now."""
    target = read_token(token, VERIFY_SALT)
    with transaction.atomic():
        user = _locked_user(target)
        if user.email_key != target.email:
            raise LinkError(LinkError.STALE)
        if user.email_verified:
            return user  # already confirmed (this link, another one, or a reset): nothing to do
        if not _issued_for_this_state(user, target):
            raise LinkError(LinkError.STALE)
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    return user


def confirm_email_change(token: str) -> User:
    """Make the pending address the account's (confirmed) address."""
    target = read_token(token, CHANGE_SALT)
    try:
        with transaction.atomic():
            user = _locked_user(target)
            if not user.pending_email and user.email_key == target.email:
                return user  # this link was already used
            if not user.pending_email or email_key(user.pending_email) != target.email:
                raise LinkError(LinkError.STALE)
            if not _issued_for_this_state(user, target):
                raise LinkError(LinkError.STALE)
            if User.objects.filter(email_key=target.email).exclude(pk=user.pk).exists():
                raise LinkError(LinkError.TAKEN)
            user.email = user.pending_email
            user.pending_email = ""
            user.email_verified = True
            user.save(update_fields=["email", "pending_email", "email_verified"])
    except IntegrityError:
        # Someone signed up with this address between the check and the save.
        raise LinkError(LinkError.TAKEN) from None
    return user
