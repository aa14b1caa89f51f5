"""The API's JWTs: issuing a pair, rotating a refresh token, checking an access token.

One SignIn is one family of refresh tokens; every token of the family carries
its id as claim `sid`, and every refresh token's `jti` starts with it, so the
family's outstanding tokens can be found (and blacklisted) without a table of
our own.

Rotation is decided by a unique insert: simplejwt's BlacklistedToken is a
one-to-one on the outstanding token, so of several requests refreshing the
same token exactly one inserts the row; the others get an IntegrityError and
look at when it was rotated. Within JWT_REFRESH_REUSE_GRACE_SECONDS that is a
race between two parts of one client (409 `refresh_race`, nothing revoked);
later it is a stolen or replayed token and the whole sign-in is revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, Token
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import SignIn, User
from accounts.sign_ins import revoke

SIGN_IN_CLAIM = "sid"


class TokenRejected(Exception):
    """A token that cannot be used; `code` is from numfree/errors.py."""

    def __init__(self, code: str, status: int = 401, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.message = message


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    sign_in: SignIn


class _PresentedRefreshToken(Token):
    """A refresh token as a client sent it: signature, expiry and type are checked;
    whether it was already used is decided by `rotate`, atomically."""

    token_type = "refresh"
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME


def obtain_pair(email: str, password: str, second_factor: Callable[[User], None] | None = None) -> TokenPair:
    """Sign in with email and password: a new sign-in and its first pair of tokens.

    Raises TokenRejected: `invalid_credentials` (401, the same for an unknown
    email), then, only for the right password, `account_disabled` or
    `email_unverified` (403), then whatever `second_factor(user)` raises
    (twofactor.api: `two_factor_required`, `two_factor_invalid`).
    """
    user = User.objects.by_email(email).first()
    if user is None:
        # Hash anyway, so an unknown email takes as long as a wrong password.
        User().set_password(password)
        raise TokenRejected("invalid_credentials")
    if not user.check_password(password):
        raise TokenRejected("invalid_credentials")
    if not user.is_active:
        raise TokenRejected("account_disabled", status=403)
    if not user.email_verified:
        raise TokenRejected("email_unverified", status=403)
    if second_factor is not None:
        second_factor(user)
    return issue_pair(user)


def issue_pair(user: User) -> TokenPair:
    """Start a new sign-in for a user whose credentials were just checked."""
    with transaction.atomic():
        sign_in = SignIn.objects.create(user=user)
        return _new_pair(user, sign_in)


def _new_pair(user: User, sign_in: SignIn) -> TokenPair:
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[SIGN_IN_CLAIM] = str(sign_in.pk)
    refresh[api_settings.JTI_CLAIM] = f"{sign_in.pk.hex}.{uuid.uuid4().hex}"
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        # The token itself is a bearer credential: keep only its id at rest.
        token="",
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh), sign_in=sign_in)


def _decode_refresh(raw: str) -> dict[str, Any]:
    try:
        token = _PresentedRefreshToken(raw)  # type: ignore[arg-type]
    except ExpiredTokenError as exc:
        raise TokenRejected("token_expired", message="This refresh token has expired; sign in again.") from exc
    except TokenError as exc:
        raise TokenRejected("token_invalid") from exc
    claims = token.payload
    if _sign_in_id(claims) is None or not claims.get(api_settings.USER_ID_CLAIM):
        raise TokenRejected("token_invalid")
    return claims


def _sign_in_id(claims: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(claims.get(SIGN_IN_CLAIM)))
    except ValueError:
        return None


class _Reused:
    """Marker: the token was rotated too long ago; its sign-in is now revoked."""


class _Raced:
    """Marker: the token was rotated moments ago by another request."""


def rotate(raw_refresh: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented token is used up.

    Raises TokenRejected: `refresh_race` (409) when another request rotated this
    token within the grace period, `token_revoked` when the sign-in is over (or
    is ended now because a long-rotated token came back).
    """
    claims = _decode_refresh(raw_refresh)
    outcome = _rotate_atomically(claims)
    if isinstance(outcome, TokenPair):
        return outcome
    if outcome is _Raced:
        raise TokenRejected("refresh_race", status=409)
    raise TokenRejected("token_revoked")


def _rotate_atomically(claims: dict[str, Any]) -> TokenPair | type[_Raced] | type[_Reused]:
    with transaction.atomic():
        # Locking the sign-in orders this rotation against others of the same
        # family and against revocation (SQLite's IMMEDIATE transactions
        # already serialize every writer).
        sign_in = (
            SignIn.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=_sign_in_id(claims), user_id=claims[api_settings.USER_ID_CLAIM])
            .first()
        )
        if sign_in is None or sign_in.is_revoked:
            raise TokenRejected("token_revoked")
        if not sign_in.user.is_active:
            raise TokenRejected("account_disabled", status=403)
        outstanding = OutstandingToken.objects.filter(jti=claims[api_settings.JTI_CLAIM]).first()
        if outstanding is None:
            raise TokenRejected("token_invalid")
        try:
            with transaction.atomic():
                BlacklistedToken.objects.create(token=outstanding)
        except IntegrityError:
            rotated_at = BlacklistedToken.objects.get(token=outstanding).blacklisted_at
            grace = timedelta(seconds=settings.JWT_REFRESH_REUSE_GRACE_SECONDS)
            if timezone.now() - rotated_at <= grace:
                return _Raced
            revoke(sign_in, SignIn.REVOKED_REUSE)
            return _Reused
        return _new_pair(sign_in.user, sign_in)


def sign_out(raw_refresh: str) -> None:
    """End the sign-in a refresh token belongs to (any token of the family will do)."""
    claims = _decode_refresh(raw_refresh)
    sign_in = SignIn.objects.filter(pk=_sign_in_id(claims), user_id=claims[api_settings.USER_ID_CLAIM]).first()
    if sign_in is not None:
        revoke(sign_in, SignIn.REVOKED_LOGOUT)


def authenticate_access(raw_access: str | bytes) -> tuple[User, AccessToken]:
    """The user behind an access token whose sign-in is still active.

    Used by the API's authentication and by the signaling socket's `auth` frame.
    """
    try:
        token = AccessToken(raw_access)  # type: ignore[arg-type]
    except ExpiredTokenError as exc:
        raise TokenRejected("token_expired") from exc
    except TokenError as exc:
        raise TokenRejected("token_invalid") from exc
    sign_in_id = _sign_in_id(token.payload)
    user_id = token.get(api_settings.USER_ID_CLAIM)
    if sign_in_id is None or not user_id:
        raise TokenRejected("token_invalid")
    sign_in = SignIn.objects.select_related("user").filter(pk=sign_in_id, user_id=user_id).first()
    if sign_in is None or sign_in.is_revoked:
        raise TokenRejected("token_revoked")
    if not sign_in.user.is_active:
        raise TokenRejected("account_disabled", status=403)
    return sign_in.user, token
