"""What happens after a password is changed or reset, wherever that happens."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from accounts.models import SignIn, User
from accounts.sign_ins import revoke_all
from numfree.mail import queue_email


def password_changed(user: User, *, by_reset: bool = False) -> None:
    """End every API sign-in of the user and tell them by email.

    Other web sessions end by themselves: Django stores a hash of the password
    in each session and refuses sessions whose hash no longer matches (the
    view that changed it keeps its own with update_session_auth_hash).
    A reset link reached the account's address, which proves it: an
    unverified address becomes verified.
    """
    revoke_all(user, SignIn.REVOKED_PASSWORD)
    if by_reset and not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    base = settings.PUBLIC_URL.rstrip("/")
    queue_email(
        to=user.email,
        subject="Your NumFree password was changed",
        template="accounts/email/password_changed.txt",
        context={"name": user.name, "reset_url": base + reverse("password-reset")},
    )
