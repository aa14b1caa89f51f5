"""What happens after a password is changed or reset, wherever that happens, and the reset links' state binding."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse

from accounts.email_identity import email_key
from accounts.models import SignIn, User
from accounts.sign_ins import revoke_all
from numfree.mail import queue_email


class AccountStateTokenGenerator(PasswordResetTokenGenerator):
    """Django's reset tokens (bound to the password hash, last login and address), also bound to
    the pending address and the confirmed flag: a reset link dies when any of them changes."""

    key_salt = "numfree.accounts.password-reset"

    def _make_hash_value(self, user: User, timestamp: int) -> str:  # type: ignore[override]
        pending = email_key(user.pending_email) if user.pending_email else ""
        return f"{super()._make_hash_value(user, timestamp)}|{email_key(user.email)}|{pending}|{user.email_verified}"


reset_token_generator = AccountStateTokenGenerator()


def password_changed(user: User, *, by_reset: bool = False) -> None:
    """End every sign-in and any pending email change of the user, and tell them by email.

    Web sessions end by themselves: Django stores a hash of the password in
    each session and refuses sessions whose hash no longer matches (the view
    that changed it keeps its own with update_session_auth_hash). Every link
    sent before dies too: each is bound to the password hash
    (accounts/verification.py, AccountStateTokenGenerator above), and clearing
    the pending address ends a change someone may have started with the old
    password.

    A reset link reached the account's address, which proves it: an
    unverified address becomes verified. Whatever the person who signed up
    chose is then dropped (the name too), since they may not own the address.
    """
    revoke_all(user, SignIn.REVOKED_PASSWORD)
    fields = []
    if user.pending_email:
        user.pending_email = ""
        fields.append("pending_email")
    if by_reset and not user.email_verified:
        user.email_verified = True
        user.name = ""
        fields += ["email_verified", "name"]
    if fields:
        user.save(update_fields=fields)
    base = settings.PUBLIC_URL.rstrip("/")
    queue_email(
        to=user.email,
        subject="Your NumFree password was changed",
        template="accounts/email/password_changed.txt",
        context={"name": user.mail_greeting_name, "reset_url": base + reverse("password-reset")},
    )
