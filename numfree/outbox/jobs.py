"""The outbox's own jobs: sending email, and forgetting jobs that were given up."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

import numfree.mail  # noqa: F401 - registers "mail.send"
from numfree.outbox import periodic
from numfree.outbox.models import Job


@periodic("outbox.purge_failed", every=timedelta(hours=6))
def purge_failed(payload: dict) -> None:
    """Failed rows (kind, dates, error class; no payload) stay for support this long, then go."""
    cutoff = timezone.now() - timedelta(days=settings.OUTBOX_FAILED_KEEP_DAYS)
    Job.objects.failed().filter(failed_at__lt=cutoff).delete()
