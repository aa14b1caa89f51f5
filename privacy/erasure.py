"""Account deletion: stop the account at once, then erase it across every app from the worker.

The request (password re-entered) disables the account, ends its sign-ins and
sockets, and queues `privacy.erase_account`. The job runs every registered
app's eraser (the account itself last), scrubs admin log entries and reduces
the deletion request to an HMAC of the email and its dates. Erasers must be
idempotent: a failed run is retried from the start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from privacy import subject_requests
from privacy.models import DataSubjectRequest
from privacy.registry import registered

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)


def request_deletion(user: User) -> DataSubjectRequest:
    """Disable the account now and queue its erasure. The caller checked the password."""
    from numfree.outbox import enqueue

    with transaction.atomic():
        request = subject_requests.record_from_center(user, DataSubjectRequest.DELETION, status="in_progress")
        request.identity_verification = "Signed in and re-entered the password"
        request.save(update_fields=["identity_verification"])
        user.is_active = False
        user.save(update_fields=["is_active"])
        _end_sign_ins(user)
        enqueue("privacy.erase_account", {"user_id": user.pk, "request_id": request.pk})
    return request


def _end_sign_ins(user: User) -> None:
    try:
        from accounts.sign_ins import revoke_all
    except ImportError:
        revoke_all = None
    if revoke_all is not None:
        from accounts.models import SignIn

        revoke_all(user, SignIn.REVOKED_DISABLED)  # blacklists refresh tokens, closes sockets after commit
        return
    from signaling.revocation import close_sockets

    user_id = user.pk
    transaction.on_commit(lambda: close_sockets(user_id, None, disabled=True))


def erase_account(user_id: int, request_id: int | None = None) -> bool:
    """Erase everything about the user in every app; returns False when nothing was left to erase."""
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    if user is None:
        _finish(request_id)
        return False
    email = user.email
    for entry in registered():
        if entry.erase is None:
            continue
        with transaction.atomic():
            entry.erase(user)
    subject_requests.keep_only_hmac(user_id, email)
    _finish(request_id)
    forget_deleted_bytes()
    logger.info("account %s erased", user_id)
    return True


def _finish(request_id: int | None) -> None:
    request = DataSubjectRequest.objects.filter(pk=request_id).first() if request_id else None
    if request is not None and request.status != DataSubjectRequest.FULFILLED:
        subject_requests.mark_fulfilled(request)


def forget_deleted_bytes() -> None:
    """SQLite: copy the WAL into the database (secure_delete zeroes freed cells) and empty it."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
