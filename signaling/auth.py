"""Who is on a socket: the access JWT, its sign-in, and the account's contacts.

The same checks as the API (accounts/api_auth.py): a valid access token whose
sign-in (claim `sid`) is not revoked, for an active account with a verified
email.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import SignIn, User
from signaling.contacts import mutual_contacts


class AuthFailure(Exception):
    def __init__(self, code: str, close_code: int) -> None:
        super().__init__(code)
        self.code = code
        self.close_code = close_code


@dataclass(frozen=True)
class Identity:
    user_id: int
    email: str
    sign_in_id: str
    contacts: dict[int, str]


def _identity(user_id: object, sign_in_id: str) -> Identity:
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise AuthFailure("token_revoked", 4401)
    if not SignIn.objects.active().filter(pk=sign_in_id, user=user).exists():
        raise AuthFailure("token_revoked", 4401)
    if not user.is_active:
        raise AuthFailure("account_disabled", 4403)
    if not user.email_verified:
        raise AuthFailure("email_unverified", 4403)
    return Identity(user.pk, user.email, sign_in_id, mutual_contacts(user.pk))


async def authenticate(raw_token: str) -> Identity:
    try:
        token = AccessToken(raw_token)
    except TokenError:
        raise AuthFailure("token_invalid", 4401) from None
    sign_in_id = token.get("sid")
    user_id = token.get("user_id")
    if not sign_in_id or user_id is None:
        raise AuthFailure("token_invalid", 4401)
    try:
        return await database_sync_to_async(_identity)(user_id, str(sign_in_id))
    except (ValueError, ValidationError):
        raise AuthFailure("token_invalid", 4401) from None


async def load_contacts(user_id: int) -> dict[int, str]:
    return await database_sync_to_async(mutual_contacts)(user_id)
