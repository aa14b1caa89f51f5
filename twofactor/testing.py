"""For tests: an account with two-factor sign-in on, and a test client that has given its code.

Staff pages need both (twofactor/admin_site.py); `Client.force_login` alone
is a session that never gave a code.
"""

from __future__ import annotations

from typing import Any

import pyotp
from django.utils import timezone

from accounts.models import User
from twofactor.keys import seal_secret
from twofactor.models import Authenticator
from twofactor.sessions import PASSED_KEY, stamp


def enable_two_factor(user: User, secret: str | None = None) -> str:
    """Turn two-factor sign-in on for the user with a known secret (made up when not given); returns it."""
    secret = secret or pyotp.random_base32()
    Authenticator.objects.update_or_create(
        user=user, defaults={"secret_sealed": seal_secret(user.pk, secret), "confirmed_at": timezone.now()}
    )
    return secret


def force_login_with_two_factor(client: Any, user: User) -> str:
    """Like `client.force_login(user)`, after a code: two-factor on and passed in this session. Returns the secret."""
    authenticator = Authenticator.objects.enabled().filter(user=user).first()
    secret = None if authenticator else enable_two_factor(user)
    authenticator = Authenticator.objects.get(user=user)
    client.force_login(user)
    session = client.session
    session[PASSED_KEY] = stamp(authenticator)
    session.save()
    return secret or ""
