"""Policy versions, objections, usage data, staff access log, data-subject requests and exports."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone

from numfree.card_numbers import FreeTextField


class PolicyVersionQuerySet(models.QuerySet["PolicyVersion"]):
    def current(self, today: date | None = None) -> PolicyVersion | None:
        today = today or timezone.localdate()
        return self.filter(effective_date__lte=today).order_by("-effective_date", "-id").first()


class PolicyVersion(models.Model):
    """A published version of the privacy policy and the date it took effect."""

    version = models.CharField(max_length=32, unique=True)
    effective_date = models.DateField()
    summary_of_changes = models.TextField(blank=True)

    objects = PolicyVersionQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_date"]

    def __str__(self) -> str:
        return f"version {self.version} (effective {self.effective_date:%B %-d, %Y})"


class PolicyNoticeDismissal(models.Model):
    """A user dismissed the notice of this policy version."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="dismissals")
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="privacy_notice_dismissed_once")]

    def __str__(self) -> str:
        return f"notice of {self.version} dismissed"


class Objection(models.Model):
    """A dated record of a user objecting to (or allowing again) a kind of processing."""

    USAGE_ANALYTICS = "usage_analytics"
    KINDS = [(USAGE_ANALYTICS, "Usage analytics")]

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=KINDS)
    objected = models.BooleanField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "kind", "-recorded_at"], name="objection_latest")]

    def __str__(self) -> str:
        return f"{self.kind}: {'objected' if self.objected else 'allowed'} on {self.recorded_at:%Y-%m-%d}"


class PageView(models.Model):
    """First-party usage data: one page view (no query string, no raw User-Agent)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    browser = models.CharField(max_length=32)
    path = models.CharField(max_length=300)
    viewed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-viewed_at"], name="pageview_user_newest")]

    def __str__(self) -> str:
        return f"page view {self.pk}"


class StaffAccess(models.Model):
    """A staff member opened a user's personal data in the admin."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    staff_label = models.CharField(max_length=254)  # kept if the staff account goes
    subject = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    what = models.CharField(max_length=200)  # "Call log #12 (change page)"
    accessed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-accessed_at"]
        verbose_name_plural = "staff accesses"
        indexes = [models.Index(fields=["subject", "-accessed_at"], name="staffaccess_subject_newest")]

    def __str__(self) -> str:
        return f"{self.what} at {self.accessed_at:%Y-%m-%d %H:%M}"


class DataSubjectRequestQuerySet(models.QuerySet["DataSubjectRequest"]):
    def open(self) -> DataSubjectRequestQuerySet:
        return self.filter(status__in=DataSubjectRequest.OPEN_STATUSES)

    def flagged(self) -> DataSubjectRequestQuerySet:
        return self.filter(flagged_at__isnull=False)

    def due_within(self, days: int, now: datetime | None = None) -> DataSubjectRequestQuerySet:
        now = now or timezone.now()
        return self.open().filter(due_at__lte=now + timedelta(days=days))


class DataSubjectRequest(models.Model):
    """A request to exercise a privacy right: from the privacy center or recorded by support staff."""

    ACCESS, CORRECTION, DELETION, EXPORT, OBJECTION = "access", "correction", "deletion", "export", "objection"
    KINDS = [
        (ACCESS, "Access"),
        (CORRECTION, "Correction"),
        (DELETION, "Deletion"),
        (EXPORT, "Export"),
        (OBJECTION, "Objection"),
    ]
    GDPR, CCPA = "gdpr", "ccpa"
    REGULATIONS = [(GDPR, "GDPR (one month)"), (CCPA, "CCPA (45 days)")]
    RECEIVED, IN_PROGRESS, FULFILLED, REJECTED = "received", "in_progress", "fulfilled", "rejected"
    STATUSES = [(RECEIVED, "Received"), (IN_PROGRESS, "In progress"), (FULFILLED, "Fulfilled"), (REJECTED, "Rejected")]
    OPEN_STATUSES = (RECEIVED, IN_PROGRESS)
    CENTER, EMAIL, POST, OTHER = "privacy_center", "email", "post", "other"
    SOURCES = [(CENTER, "Privacy center"), (EMAIL, "Email"), (POST, "Post"), (OTHER, "Other")]

    kind = models.CharField(max_length=16, choices=KINDS)
    regulation = models.CharField(max_length=8, choices=REGULATIONS, default=GDPR)
    source = models.CharField(max_length=16, choices=SOURCES, default=EMAIL)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requester_name = models.CharField(max_length=200, blank=True)
    requester_email = models.EmailField(blank=True)
    # Once fulfilled for a deleted account, only this HMAC of the email remains.
    requester_email_hmac = models.CharField(max_length=64, blank=True, db_index=True)
    identity_verification = FreeTextField(
        blank=True,
        help_text="How the requester's identity was verified (e.g. signed in; reply from the account's address).",
    )
    details = FreeTextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(blank=True)
    extended_due_at = models.DateTimeField(null=True, blank=True)
    extension_reason = FreeTextField(blank=True)
    status = models.CharField(max_length=16, choices=STATUSES, default=RECEIVED)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    # Set when a deletion at a provider was given up (retried for 30 days, or
    # refused): support must finish it by hand, then clear the flag.
    flagged_at = models.DateTimeField(
        null=True, blank=True, help_text="A deletion at Twilio or Stripe was given up; clear once handled by hand."
    )
    flag_reason = models.CharField(max_length=300, blank=True)

    objects = DataSubjectRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        indexes = [models.Index(fields=["status", "due_at"], name="dsr_open_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} request #{self.pk}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self.due_at:
            self.due_at = self.received_at + timedelta(days=settings.PRIVACY_REQUEST_DUE_DAYS[self.regulation])
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def deadline(self) -> datetime:
        return self.extended_due_at or self.due_at


class ExportArchive(models.Model):
    """A zip of a user's data, built by the worker, downloadable by its owner for 24 hours."""

    PENDING, BUILDING, READY, FAILED = "pending", "building", "ready", "failed"
    STATUSES = [(PENDING, "Waiting"), (BUILDING, "Building"), (READY, "Ready"), (FAILED, "Failed")]
    IN_PROGRESS = (PENDING, BUILDING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=STATUSES, default=PENDING)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    file_name = models.CharField(max_length=200, blank=True)  # in the private files storage
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One export in progress per user: a second request gets the first one (privacy.exports).
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["pending", "building"]),
                name="privacy_one_export_at_a_time",
            )
        ]

    def __str__(self) -> str:
        return f"export {self.pk}"


class UserSession(AbstractBaseSession):
    """A browser session with the account it is signed in to (SESSION_ENGINE = "privacy.sessions").

    Django's own table can only be searched by decoding every row; this one is
    found by user, for the privacy center, the export and erasure. It holds
    nothing more than Django's: no address, no browser.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.CASCADE, related_name="+")

    @classmethod
    def get_session_store_class(cls) -> type:
        from privacy.sessions import SessionStore

        return SessionStore

    class Meta(AbstractBaseSession.Meta):
        verbose_name = "browser session"
        verbose_name_plural = "browser sessions"
