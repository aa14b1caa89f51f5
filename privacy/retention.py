"""Retention: call and SMS logs, voicemails and usage data older than RETENTION_DAYS are deleted.

Each app deletes its own rows through its registered `purge_older_than` hook,
in short batches (one transaction each) so the site keeps answering while a
large purge runs.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from privacy.registry import registered

logger = logging.getLogger(__name__)


def retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)


def delete_in_batches(queryset: models.QuerySet, *, dry_run: bool = False, batch_size: int | None = None) -> int:
    """Delete the queryset's rows a batch at a time; returns how many of the queryset's model went."""
    if dry_run:
        return queryset.count()
    batch_size = batch_size or settings.PRIVACY_PURGE_BATCH_SIZE
    model = queryset.model
    deleted = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        with transaction.atomic():
            _total, per_model = model._base_manager.filter(pk__in=ids).delete()
        deleted += per_model.get(model._meta.label, 0)
        # Let writers queued behind the batch (SQLite has one writer at a time) go first.
        time.sleep(settings.PRIVACY_PURGE_PAUSE_SECONDS)


def purge_expired(*, now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Ask every app to delete what is older than the retention period; returns counts per kind."""
    cutoff = retention_cutoff(now)
    counts: dict[str, int] = {}
    for entry in registered():
        if entry.purge_older_than is None:
            continue
        for kind, count in entry.purge_older_than(cutoff, dry_run).items():
            counts[kind] = counts.get(kind, 0) + count
    if not dry_run:
        logger.info("retention purge: %s", ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "nothing")
    return counts
