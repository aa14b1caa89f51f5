"""Who is on a socket: the access JWT, its sign-in, and the account's contacts.

The rule is the API's (accounts.tokens.authenticate_access: a valid access
token whose sign-in is not revoked, for an active account) plus a verified
email, read from the database at auth time, so a revoked sign-in or a disabled
account is refused the moment the change is committed.

What makes it cheap: the token's signature and expiry are checked in the event
loop (no database), and the database reads of every socket authenticating at
the same moment go to Django's one sync thread together, as one query for
their sign-ins (with the users) and one for their contacts. A lone socket is
one hop of two queries, as before; 500 sockets reconnecting after a restart are
a few hops instead of 500, so a reconnect storm no longer queues behind the
auth timeout.
"""

from __future__ import annotations

import asyncio
import contextvars
import uuid
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.db.models import Q
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import SignIn
from accounts.tokens import SIGN_IN_CLAIM
from signaling.contacts import mutual_contacts
from signaling.models import Contact

BATCH = 500  # sign-ins per query: well under every database's parameter limit


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


@dataclass(frozen=True)
class _Account:
    """What the database says about one sign-in at auth time."""

    user_id: int
    email: str
    revoked: bool
    active: bool
    verified: bool
    contacts: dict[int, str]


def _claims(raw_token: str) -> tuple[uuid.UUID, int]:
    """The sign-in and user of a well-signed, unexpired access token (no database)."""
    try:
        token = AccessToken(raw_token)  # type: ignore[arg-type]
    except TokenError:  # an expired token is just not usable here: the client refreshes on 4401
        raise AuthFailure("token_invalid", 4401) from None
    try:
        return uuid.UUID(str(token.get(SIGN_IN_CLAIM))), int(token.get(api_settings.USER_ID_CLAIM))
    except (TypeError, ValueError):
        raise AuthFailure("token_invalid", 4401) from None


def _accounts(keys: list[tuple[uuid.UUID, int]]) -> dict[tuple[uuid.UUID, int], _Account]:
    """One query for the sign-ins and their users, one for the contacts of the verified ones."""
    rows = SignIn.objects.filter(pk__in={sid for sid, _ in keys}).values_list(
        "pk", "user_id", "revoked_at", "user__email", "user__is_active", "user__email_verified"
    )
    found = {
        (pk, user_id): (revoked_at, email, active, verified)
        for pk, user_id, revoked_at, email, active, verified in rows
    }
    wanted = {
        user_id for (_, user_id), (revoked, _, active, verified) in found.items() if not revoked and active and verified
    }
    contacts: dict[int, dict[int, str]] = {user_id: {} for user_id in wanted}
    if wanted:
        # The rule of signaling.contacts.mutual_contacts, for many users at once.
        pairs = (
            Contact.objects.mutual()
            .filter(Q(requester_id__in=wanted) | Q(addressee_id__in=wanted))
            .values_list(
                "requester_id", "requester__email", "requester__email_verified", "requester__is_active",
                "addressee_id", "addressee__email", "addressee__email_verified", "addressee__is_active",
            )
        )  # fmt: skip
        for a_id, a_email, a_verified, a_active, b_id, b_email, b_verified, b_active in pairs:
            if a_id in contacts and b_verified and b_active:
                contacts[a_id][b_id] = b_email
            if b_id in contacts and a_verified and a_active:
                contacts[b_id][a_id] = a_email
    return {
        key: _Account(key[1], email, revoked is not None, active, verified, contacts.get(key[1], {}))
        for key, (revoked, email, active, verified) in found.items()
    }


class _Lookups:
    """Sign-ins waiting for the database, read together by one task per event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[tuple[tuple[uuid.UUID, int], asyncio.Future[_Account | None]]] = []
        self.task: asyncio.Task[None] | None = None

    async def get(self, key: tuple[uuid.UUID, int]) -> _Account | None:
        future: asyncio.Future[_Account | None] = self.loop.create_future()
        self.pending.append((key, future))
        if self.task is None:
            # An empty context: the reads belong to no socket (nor to a sync view's thread).
            self.task = self.loop.create_task(self._run(), context=contextvars.Context())
        return await future

    async def _run(self) -> None:
        try:
            while self.pending:
                batch, self.pending = self.pending[:BATCH], self.pending[BATCH:]
                try:
                    found = await database_sync_to_async(_accounts)([key for key, _ in batch])
                except Exception as exc:  # the database is down: every socket of the batch hears it
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc.with_traceback(None))  # no traceback holding this frame
                    continue
                for key, future in batch:
                    if not future.done():
                        future.set_result(found.get(key))
        finally:
            self.task = None


_lookups: dict[asyncio.AbstractEventLoop, _Lookups] = {}


def _lookups_of(loop: asyncio.AbstractEventLoop) -> _Lookups:
    lookups = _lookups.get(loop)
    if lookups is None:
        for old in [lp for lp in _lookups if lp.is_closed()]:
            del _lookups[old]
        lookups = _lookups[loop] = _Lookups(loop)
    return lookups


async def authenticate(raw_token: str) -> Identity:
    sign_in_id, user_id = _claims(raw_token)
    account = await _lookups_of(asyncio.get_running_loop()).get((sign_in_id, user_id))
    if account is None or account.revoked:
        raise AuthFailure("token_revoked", 4401)
    if not account.active:
        raise AuthFailure("account_disabled", 4403)
    if not account.verified:
        raise AuthFailure("email_unverified", 4403)
    return Identity(account.user_id, account.email, str(sign_in_id), account.contacts)


async def load_contacts(user_id: int) -> dict[int, str]:
    return await database_sync_to_async(mutual_contacts)(user_id)
