"""Putting jobs in the outbox: `enqueue` for one-off jobs, `ensure_periodic` for scheduled ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone

from numfree.outbox import crypto, registry
from numfree.outbox.models import Job
from numfree.outbox.registry import Payload


def periodic_key(name: str) -> str:
    """The dedupe key of a periodic job's single row."""
    return f"periodic:{name}"


def enqueue(
    kind: str,
    payload: Payload,
    delay: timedelta | float | None = None,
    dedupe_key: str | None = None,
    reference: str = "",
    sequence: str = "",
) -> int | None:
    """Write a job in the caller's transaction; returns its id, or None when `dedupe_key` is already queued."""
    spec = registry.get(kind)
    if spec is None:
        raise LookupError(f"no outbox handler is registered for {kind!r} (is it in an app's jobs.py?)")
    if spec.is_periodic:
        raise ValueError(f"{kind!r} is a periodic job: the worker schedules it")
    if dedupe_key is not None and (not dedupe_key or len(dedupe_key) > 200):
        raise ValueError("dedupe_key must be 1 to 200 characters")
    if len(reference) > 100:
        raise ValueError("reference must be at most 100 characters")
    if len(sequence) > 100:
        raise ValueError("sequence must be at most 100 characters")
    now = timezone.now()
    job = Job(
        kind=kind,
        payload=crypto.seal(kind, payload),
        created_at=now,
        run_at=now + _as_timedelta(delay),
        expires_at=now + spec.expires_after if spec.expires_after else None,
        dedupe_key=dedupe_key,
        reference=reference,
        sequence=sequence,
    )
    if dedupe_key is None:
        job.save(force_insert=True)
        return job.pk
    return _insert_unless_queued(job)


def _insert_unless_queued(job: Job) -> int | None:
    """One INSERT ... ON CONFLICT DO NOTHING RETURNING id (SQLite: INSERT OR IGNORE ... RETURNING id).

    A duplicate dedupe_key inserts nothing and leaves the caller's transaction
    usable, with no savepoint around it (a SAVEPOINT and a RELEASE less in every
    inbound-SMS webhook). Model.save() goes through the same `_insert`; bulk_create
    cannot say whether its row went in.
    """
    fields = [field for field in Job._meta.concrete_fields if not field.primary_key]
    rows = Job.objects._insert([job], fields=fields, returning_fields=[Job._meta.pk], on_conflict=OnConflict.IGNORE)
    if not rows or rows[0] is None:
        return None  # already queued
    job.pk = rows[0][0]
    job._state.adding = False
    return job.pk


def _as_timedelta(delay: timedelta | float | None) -> timedelta:
    if delay is None:
        return timedelta(0)
    if not isinstance(delay, timedelta):
        delay = timedelta(seconds=delay)
    if delay < timedelta(0):
        raise ValueError("delay cannot be negative")
    return delay


def ensure_periodic(now: datetime | None = None) -> int:
    """Create the row of each registered periodic job that has none; returns how many were created."""
    now = now or timezone.now()
    created = 0
    for spec in registry.periodic_specs():
        key = periodic_key(spec.kind)
        if Job.objects.filter(dedupe_key=key).exists():
            continue
        try:
            with transaction.atomic():
                Job.objects.create(
                    kind=spec.kind, payload=crypto.seal(spec.kind, {}), created_at=now, run_at=now, dedupe_key=key
                )
            created += 1
        except IntegrityError:
            pass  # another worker created it first
    return created


def next_period(origin: datetime, every: timedelta, now: datetime) -> datetime:
    """The first time after `now` on the grid `origin + k * every` (periods missed while no worker ran are skipped)."""
    periods = max(1, (now - origin) // every + 1)
    return origin + every * periods
