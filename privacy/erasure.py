"""Account deletion: stop the account at once, erase it here in one worker pass, then at the providers.

The request (password re-entered) disables the account, ends its sign-ins and
sockets, and queues `privacy.erase_account`. That job runs every registered
app's eraser (the account itself last), each in its own transaction and none
calling a provider, so the local erasure finishes whatever Twilio or Stripe
answer. What an eraser leaves to delete at a provider (messages, recordings,
numbers, the Stripe customer) it returns as `ProviderDeletion`s, queued in its
transaction as outbox jobs holding only provider ids: each retries for up to
30 days, at most 6 hours apart, and a job given up flags the request to
support. The request is then reduced to an HMAC of the email and its dates,
and the user is told, at the address captured before the account went, that
the deletion is done here and continues at the providers. Erasers must be
idempotent: a failed run is retried from the start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from numfree.sqlite_wal import truncate_wal_soon
from privacy import subject_requests
from privacy.models import DataSubjectRequest
from privacy.registry import PROVIDERS, ProviderDeletion, registered

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

# How long a deletion at a provider keeps being retried (Twilio's 20009 can
# last days) and the longest wait between two attempts.
PROVIDER_RETRY_FOR = timedelta(days=30)
PROVIDER_MAX_DELAY = timedelta(hours=6)


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
    """Erase everything about the user here, and queue the deletions at providers.

    Returns False when no account was left to erase (a retry after the account
    row went: the request is still finished).
    """
    request = DataSubjectRequest.objects.filter(pk=request_id).first() if request_id else None
    user = get_user_model()._default_manager.filter(pk=user_id).first()
    # Captured before the account goes, used for the HMAC and the last email, then forgotten.
    email = user.email if user is not None else (request.requester_email if request is not None else "")
    if user is not None:
        for entry in registered():
            if entry.erase is None:
                continue
            with transaction.atomic():
                for deletion in entry.erase(user) or ():
                    _queue_at_provider(deletion, request_id)
    with transaction.atomic():
        finishing = request is not None and request.status != DataSubjectRequest.FULFILLED
        if email:
            subject_requests.keep_only_hmac(user_id, email)
        if request is not None and finishing:
            subject_requests.mark_fulfilled(request)
            if email and request.kind == DataSubjectRequest.DELETION:
                _tell_the_user(email, request)
    forget_deleted_bytes()
    logger.info("account %s erased here%s", user_id, "" if user is not None else " (already gone)")
    return user is not None


def _queue_at_provider(deletion: ProviderDeletion, request_id: int | None) -> None:
    from numfree.outbox import enqueue

    payload = {**deletion.payload, "request_id": request_id} if request_id else deletion.payload
    enqueue(deletion.job, payload, reference=reference_of(request_id, deletion.provider) if request_id else "")


def reference_of(request_id: int, provider: str = "") -> str:
    """The outbox reference of a request's deletions at a provider ("dsr:12:twilio"); without one, the prefix of all."""
    return f"dsr:{request_id}:{provider}"


def _tell_the_user(email: str, request: DataSubjectRequest) -> None:
    from numfree.mail import queue_email

    pending = subject_requests.providers_pending(request)
    queue_email(
        to=email,
        subject="Your NumFree account is deleted",
        template="privacy/email/account_erased.txt",
        context={
            "providers": [name for key, name in PROVIDERS.items() if key in pending],
            "retry_days": PROVIDER_RETRY_FOR.days,
            "contact": "privacy@numfree.com",
        },
    )


def provider_deletion_job(kind: str) -> Callable[[Callable[[dict], None]], Callable[[dict], None]]:
    """Register an idempotent deletion at a provider: retried for 30 days, at most 6 h apart;
    given up (or refused for good), it flags the request it was queued for to support."""
    from numfree.outbox import job

    def given_up(payload: dict) -> None:
        flag_for_support(payload.get("request_id"), f"{kind} was given up; see the outbox's failed jobs")

    return job(kind, retry_for=PROVIDER_RETRY_FOR, max_delay=PROVIDER_MAX_DELAY, on_expire=given_up)


def flag_for_support(request_id: int | None, reason: str) -> None:
    """Put the request before support (admin filter, daily digest); the first reason is kept."""
    if not request_id:
        return
    DataSubjectRequest.objects.filter(pk=request_id, flagged_at__isnull=True).update(
        flagged_at=timezone.now(), flag_reason=reason[:300]
    )
    logger.warning("data-subject request %s flagged to support: a deletion at a provider was given up", request_id)


def forget_deleted_bytes() -> None:
    """SQLite: copy the WAL into the database (secure_delete zeroes freed cells) and empty it."""
    if not truncate_wal_soon():
        logger.warning("the write-ahead log stayed busy: the next checkpoint empties it")
