"""Two-factor state kept in the (server-side) session: a half-finished login, and proof a code was given.

Between the password and the code nobody is logged in: the session holds only
who is signing in, until when, and a hash of their password, so the state
dies with a password change and after TWO_FACTOR_LOGIN_SECONDS. A logged-in
session records which authenticator it passed; a session that passed none
(or an older one) is not accepted for an account with two-factor on
(twofactor/middleware.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from twofactor.models import Authenticator

PENDING_KEY = "twofactor_pending"
PASSED_KEY = "twofactor_passed"


@dataclass(frozen=True)
class PendingLogin:
    user: User
    backend: str
    redirect_to: str


def begin_login(request: HttpRequest, user: User, backend: str, redirect_to: str) -> None:
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": backend,
        "next": redirect_to,
        "until": timezone.now().timestamp() + settings.TWO_FACTOR_LOGIN_SECONDS,
        "password": user.get_session_auth_hash(),
    }


def pending_login(request: HttpRequest) -> PendingLogin | None:
    """The login waiting for its code, or None (none, expired, password changed, account disabled)."""
    state = request.session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    user = User.objects.filter(pk=state.get("user"), is_active=True).first()
    if (
        user is None
        or timezone.now().timestamp() > float(state.get("until", 0))
        or not constant_time_compare(str(state.get("password", "")), user.get_session_auth_hash())
    ):
        end_login(request)
        return None
    return PendingLogin(user=user, backend=str(state["backend"]), redirect_to=str(state["next"]))


def end_login(request: HttpRequest) -> None:
    request.session.pop(PENDING_KEY, None)


def stamp(authenticator: Authenticator) -> str:
    confirmed = authenticator.confirmed_at.timestamp() if authenticator.confirmed_at else 0
    return f"{authenticator.pk}:{confirmed}"


def mark_passed(request: HttpRequest, authenticator: Authenticator) -> None:
    request.session[PASSED_KEY] = stamp(authenticator)


def has_passed(request: HttpRequest, authenticator: Authenticator) -> bool:
    return constant_time_compare(str(request.session.get(PASSED_KEY, "")), stamp(authenticator))
