"""Data-subject requests: recording them, telling the requester (received, then done), their deadlines,
what is still pending at providers, and the daily digest to staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.email_identity import email_key
from privacy.models import DataSubjectRequest

if TYPE_CHECKING:
    from accounts.models import User

DUE_SOON_DAYS = 7


def email_hmac(email: str) -> str:
    """What stays of a requester's email once their account is gone: enough to match a later request."""
    # The canonical key, so every spelling of one address (Kelvin sign, fullwidth, IDNA) matches.
    return salted_hmac("numfree.privacy.requester", email_key(email)).hexdigest()


def record_from_center(user: User, kind: str, details: str = "", *, status: str = "") -> DataSubjectRequest:
    """A request made in the privacy center; the requester is emailed that it was received."""
    request = DataSubjectRequest.objects.create(
        kind=kind,
        source=DataSubjectRequest.CENTER,
        user=user,
        requester_name=user.name,
        requester_email=user.email,
        identity_verification="Signed in to the account",
        details=details,
        status=status or DataSubjectRequest.RECEIVED,
    )
    acknowledge(request)
    return request


# What each kind of request is, in the requester's words.
WHAT = {
    DataSubjectRequest.ACCESS: "a copy of what NumFree holds about you",
    DataSubjectRequest.CORRECTION: "a correction of your data",
    DataSubjectRequest.DELETION: "the deletion of your account",
    DataSubjectRequest.EXPORT: "an export of your data",
    DataSubjectRequest.OBJECTION: "an objection to how your data is used",
}


def _center_url(fragment: str = "requests") -> str:
    return settings.PUBLIC_URL.rstrip("/") + reverse("privacy:center") + f"#{fragment}"


def acknowledge(request: DataSubjectRequest) -> None:
    """Email the requester that the request is recorded, and by when it is answered (through the outbox)."""
    from numfree.mail import queue_email

    if not request.requester_email:
        return
    queue_email(
        to=request.requester_email,
        subject="We received your privacy request",
        template="privacy/email/request_received.txt",
        context={
            "what": WHAT[request.kind],
            "number": request.pk,
            "deadline": request.deadline,
            "kind": request.kind,
            "center_url": _center_url(),
        },
    )


def mark_fulfilled(request: DataSubjectRequest, *, notify: bool = True) -> bool:
    """Close an open request as fulfilled, once (a conditional UPDATE), and email the requester.

    A deletion's requester gets the erasure's own last email instead. Returns
    False when the request was no longer open (nothing is sent twice).
    """
    now = timezone.now()
    closed = DataSubjectRequest.objects.filter(pk=request.pk, status__in=DataSubjectRequest.OPEN_STATUSES).update(
        status=DataSubjectRequest.FULFILLED, fulfilled_at=now
    )
    request.status, request.fulfilled_at = DataSubjectRequest.FULFILLED, now
    if closed and notify and request.kind != DataSubjectRequest.DELETION:
        _tell_fulfilled(request)
    return bool(closed)


def _tell_fulfilled(request: DataSubjectRequest) -> None:
    from numfree.mail import queue_email

    if not request.requester_email:
        return
    queue_email(
        to=request.requester_email,
        subject="Your privacy request is done",
        template="privacy/email/request_fulfilled.txt",
        context={
            "what": WHAT[request.kind],
            "number": request.pk,
            "kind": request.kind,
            "center_url": _center_url("export" if request.kind == DataSubjectRequest.EXPORT else "requests"),
            "hours": settings.PRIVACY_EXPORT_HOURS,
        },
    )


def keep_only_hmac(user_id: int, email: str) -> int:
    """Reduce the requests of a deleted account to an HMAC of the email and their dates."""
    return DataSubjectRequest.objects.filter(pk__in=_ids_of(user_id, email)).update(
        user=None,
        requester_name="",
        requester_email="",
        requester_email_hmac=email_hmac(email),
        identity_verification="",
        details="",
        extension_reason="",
    )


def _ids_of(user_id: int, email: str) -> list[int]:
    by_user = DataSubjectRequest.objects.filter(user_id=user_id).values_list("pk", flat=True)
    # Matched by the canonical key, as logins are (iexact's UPPER() folds a dotless i (U+0131) into I and
    # misses a fullwidth spelling). Requests typed in by support are few, so they are all read.
    key = email_key(email)
    candidates = DataSubjectRequest.objects.exclude(requester_email="").values_list("pk", "requester_email")
    return [*by_user, *(pk for pk, requester_email in candidates if email_key(requester_email) == key)]


@dataclass(frozen=True)
class AtProvider:
    """A request's deletions at one provider, read from the outbox jobs queued for it."""

    provider: str  # "Twilio", "Stripe"
    waiting: int  # still being retried
    given_up: int  # failed for good: the request is flagged
    next_try: datetime | None
    last_error: str  # the exception class and a scrubbed message, never a payload


def _jobs_of(request: DataSubjectRequest):  # type: ignore[no-untyped-def]
    from numfree.outbox.models import Job

    return Job.objects.referring_to(f"dsr:{request.pk}:")


def providers_pending(request: DataSubjectRequest) -> list[str]:
    """Keys of the providers ("twilio", "stripe") where deletions for this request are still waiting."""
    references = _jobs_of(request).pending().values_list("reference", flat=True).distinct()
    return sorted({reference.rsplit(":", 1)[-1] for reference in references})


def at_providers(request: DataSubjectRequest) -> list[AtProvider]:
    """What is still pending (or was given up) at which provider for this request; [] once all are done.

    Derived from the outbox's jobs by their reference: a job that succeeded is gone.
    """
    from privacy.registry import PROVIDERS

    by_provider: dict[str, list] = {}
    for job in _jobs_of(request).defer("payload").order_by("run_at"):
        by_provider.setdefault(job.reference.rsplit(":", 1)[-1], []).append(job)
    summary = []
    order = list(PROVIDERS)
    for key, jobs in sorted(by_provider.items(), key=lambda item: order.index(item[0]) if item[0] in order else 99):
        waiting = [job for job in jobs if job.failed_at is None]
        errors = [job.last_error for job in jobs if job.last_error]
        summary.append(
            AtProvider(
                provider=PROVIDERS.get(key, key),
                waiting=len(waiting),
                given_up=len(jobs) - len(waiting),
                next_try=waiting[0].run_at if waiting else None,
                last_error=errors[-1] if errors else "",
            )
        )
    return summary


def urgency(request: DataSubjectRequest, now: datetime | None = None) -> str:
    """ "overdue", "due-soon" (within 7 days) or "" for the admin's highlighting."""
    if not request.is_open:
        return ""
    now = now or timezone.now()
    if request.deadline < now:
        return "overdue"
    if request.deadline <= now + timedelta(days=DUE_SOON_DAYS):
        return "due-soon"
    return ""


def digest(now: datetime | None = None) -> list[DataSubjectRequest]:
    """Open requests that are overdue or due within a week, most urgent first."""
    now = now or timezone.now()
    open_requests = DataSubjectRequest.objects.open()
    return sorted(
        (r for r in open_requests if urgency(r, now)),
        key=lambda r: r.deadline,
    )


def send_digest(now: datetime | None = None) -> int:
    """Email every active staff member the requests that need attention; returns how many emails."""
    from numfree.mail import queue_email

    due = digest(now)
    flagged = list(DataSubjectRequest.objects.flagged().order_by("flagged_at"))
    if not due and not flagged:
        return 0
    staff = get_user_model()._default_manager.filter(is_staff=True, is_active=True)
    context = {
        "overdue": [r for r in due if urgency(r, now) == "overdue"],
        "due_soon": [r for r in due if urgency(r, now) == "due-soon"],
        "flagged": flagged,
        "admin_url": settings.PUBLIC_URL.rstrip("/") + "/admin/privacy/datasubjectrequest/",
    }
    sent = 0
    for member in staff:
        queue_email(
            to=member.email,
            subject=f"Privacy requests: {len(context['overdue'])} overdue, {len(context['due_soon'])} due this week"
            + (f", {len(flagged)} flagged" if flagged else ""),
            template="privacy/email/request_digest.txt",
            context=context,
        )
        sent += 1
    return sent
