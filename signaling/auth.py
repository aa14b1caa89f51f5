"""Who is on a socket: the access JWT, its sign-in, and the account's contacts.

The API's own check (accounts.tokens.authenticate_access: a valid access token
whose sign-in is not revoked, for an active account) plus a verified email.
"""

from __future__ import annotations

from dataclasses import dataclass

from channels.db import database_sync_to_async

from accounts.tokens import TokenRejected, authenticate_access
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


def _identity(raw_token: str) -> Identity:
    try:
        user, token = authenticate_access(raw_token)
    except TokenRejected as exc:
        if exc.code == "account_disabled":
            raise AuthFailure("account_disabled", 4403) from None
        # An expired token is just not usable here: the client refreshes on 4401.
        raise AuthFailure("token_revoked" if exc.code == "token_revoked" else "token_invalid", 4401) from None
    if not user.email_verified:
        raise AuthFailure("email_unverified", 4403)
    return Identity(user.pk, user.email, str(token["sid"]), mutual_contacts(user.pk))


async def authenticate(raw_token: str) -> Identity:
    return await database_sync_to_async(_identity)(raw_token)


async def load_contacts(user_id: int) -> dict[int, str]:
    return await database_sync_to_async(mutual_contacts)(user_id)
