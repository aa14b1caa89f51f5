"""Ending API sign-ins: logout, refresh-token reuse, password change or reset, disabled account.

A revoked sign-in's refresh tokens are blacklisted, its access tokens are
refused by the API (accounts.api_auth), and once the change is committed its
signaling sockets are closed on every process.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import SignIn, User
from signaling.revocation import close_sockets


def revoke(sign_in: SignIn, reason: str) -> bool:
    """End one sign-in. Returns False when it had already ended."""
    now = timezone.now()
    with transaction.atomic():
        ended = SignIn.objects.filter(pk=sign_in.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_reason=reason
        )
        _blacklist_outstanding(sign_in.user_id, [sign_in.pk])
        if ended:
            _close_sockets_after_commit(sign_in.user_id, [sign_in.pk], disabled=reason == SignIn.REVOKED_DISABLED)
    if ended:
        sign_in.revoked_at, sign_in.revoked_reason = now, reason
    return bool(ended)


def revoke_all(user: User, reason: str, keep: SignIn | uuid.UUID | str | None = None) -> list[uuid.UUID]:
    """End every active sign-in of a user except `keep`; returns the ids ended.

    `reason` is one of SignIn.REVOKED_*; REVOKED_DISABLED also tells the
    signaling sockets the account is disabled (close code 4403).
    """
    keep_id = keep.pk if isinstance(keep, SignIn) else keep
    with transaction.atomic():
        active = SignIn.objects.active().filter(user=user)
        if keep_id is not None:
            active = active.exclude(pk=keep_id)
        ids = list(active.select_for_update().values_list("pk", flat=True))
        if ids:
            SignIn.objects.filter(pk__in=ids).update(revoked_at=timezone.now(), revoked_reason=reason)
            _blacklist_outstanding(user.pk, ids)
            _close_sockets_after_commit(user.pk, ids, disabled=reason == SignIn.REVOKED_DISABLED)
    return ids


def _blacklist_outstanding(user_id: int, sign_in_ids: Iterable[uuid.UUID]) -> None:
    # A family's refresh tokens have jti "<sign-in id hex>.<random>" (accounts.tokens).
    family = Q()
    for sign_in_id in sign_in_ids:
        family |= Q(jti__startswith=f"{sign_in_id.hex}.")
    if not family:
        return
    pending = OutstandingToken.objects.filter(family, user_id=user_id, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=token) for token in pending], ignore_conflicts=True)


def _close_sockets_after_commit(user_id: int, sign_in_ids: list[uuid.UUID], *, disabled: bool) -> None:
    ids = [str(sign_in_id) for sign_in_id in sign_in_ids]
    transaction.on_commit(lambda: close_sockets(user_id, ids, disabled=disabled))
