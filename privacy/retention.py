"""Retention: call and SMS logs, voicemails and usage data older than RETENTION_DAYS are deleted.

Each app deletes its own rows through its registered `purge_older_than` hook,
in short batches (one transaction each) so the site keeps answering while a
large purge runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone

from numfree.outbox import enqueue
from privacy.registry import registered

logger = logging.getLogger(__name__)


def retention_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.RETENTION_DAYS)


def delete_in_batches(
    queryset: models.QuerySet,
    *,
    dry_run: bool = False,
    batch_size: int | None = None,
    before_delete: Callable[[models.QuerySet], None] | None = None,
) -> int:
    """Delete the queryset's rows a batch at a time; returns how many of the queryset's model went.

    Order the queryset by the indexed column it filters on (e.g.
    `CallLog.objects.filter(started_at__lt=cutoff).order_by("started_at")`):
    each batch is then the oldest rows, found through that index, and goes in
    one transaction with one statement, `DELETE ... WHERE id IN (SELECT id
    ... ORDER BY ... LIMIT n)` (related rows that cascade go the ORM's way).
    `before_delete(batch)` runs in the batch's transaction first, e.g. to queue
    the deletion of files or of copies held elsewhere.
    """
    if dry_run:
        return queryset.order_by().count()
    batch_size = batch_size or settings.PRIVACY_PURGE_BATCH_SIZE
    model = queryset.model
    oldest = queryset.values("pk")[:batch_size]
    deleted = 0
    while True:
        with transaction.atomic(using=queryset.db):
            if before_delete is None:
                batch = model._base_manager.filter(pk__in=oldest)
            else:  # the rows it sees must be the rows that go: pin the ids
                batch = model._base_manager.filter(pk__in=list(oldest.values_list("pk", flat=True)))
                before_delete(batch)
            _total, per_model = batch.delete()
        count = per_model.get(model._meta.label, 0)
        deleted += count
        if count < batch_size:
            return deleted
        # Let writers queued behind the batch (SQLite has one writer at a time) go first.
        time.sleep(settings.PRIVACY_PURGE_PAUSE_SECONDS)


def delete_files_later(names: Iterable[str]) -> None:
    """Queue the deletion of stored files (default storage) in the caller's transaction; the worker deletes them."""
    names = [name for name in names if name]
    if names:
        enqueue("privacy.delete_files", {"names": names})


def delete_files(names: Iterable[str]) -> None:
    """Delete stored files; one already gone is fine (a repeated job)."""
    for name in names:
        default_storage.delete(name)


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
