"""The durable outbox: one row per job, written before a request answers.

A row holds its payload encrypted (numfree/outbox/crypto.py) and is deleted
when the job succeeds. A job given up keeps its row for support, with the
payload erased: only its kind, dates, attempts and error class remain.
"""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone


class JobQuerySet(models.QuerySet["Job"]):
    def pending(self) -> JobQuerySet:
        return self.filter(failed_at__isnull=True)

    def due(self, now: datetime) -> JobQuerySet:
        """Jobs a worker may claim now: waiting ones whose time came, and leases that ran out,
        except those held back by an earlier pending job of their sequence."""
        earlier = Job.objects.filter(
            failed_at__isnull=True, sequence=OuterRef("sequence"), id__lt=OuterRef("id")
        ).exclude(sequence="")
        return self.pending().filter(run_at__lte=now).exclude(Exists(earlier))

    def failed(self) -> JobQuerySet:
        return self.filter(failed_at__isnull=False)

    def referring_to(self, prefix: str) -> JobQuerySet:
        """Jobs whose reference starts with `prefix` (e.g. "dsr:12:" for one request's deletions)."""
        return self.filter(reference__startswith=prefix)


class Job(models.Model):
    kind = models.CharField(max_length=100)
    # Fernet token of {"kind", "payload"}; None once the job is given up.
    payload = models.BinaryField(null=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    # When a worker may next claim the job. A claim moves it to the end of the
    # lease, so a job whose worker died becomes due again by itself.
    run_at = models.DateTimeField(default=timezone.now)
    # Claims so far, counted when a worker takes the job.
    attempts = models.PositiveIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    locked_by = models.CharField(max_length=100, blank=True, default="")
    # Exception class and a scrubbed short message; never payload content.
    last_error = models.CharField(max_length=300, blank=True, default="")
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    # What the job is done for, in clear and ids only (e.g. "dsr:12:twilio"), so
    # the jobs of one cause can be found without reading payloads; kept when given up.
    reference = models.CharField(max_length=100, blank=True, default="", db_index=True)
    # Jobs with the same sequence (clear text, ids only, e.g. "forward-sms:12") run one at a
    # time in the order queued: a pending job holds back the later ones. "" for none.
    sequence = models.CharField(max_length=100, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["run_at", "id"], name="outbox_job_due", condition=Q(failed_at__isnull=True)),
            models.Index(
                fields=["sequence", "id"],
                name="outbox_job_sequence",
                condition=Q(failed_at__isnull=True) & ~Q(sequence=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def state(self) -> str:
        if self.failed_at is not None:
            return "failed"
        if self.locked_until is not None and self.locked_until > timezone.now():
            return "running"
        return "waiting"
