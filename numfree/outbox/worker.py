"""The worker loop: claims due outbox jobs one at a time, runs them, then deletes, retries or gives them up.

A claim is a short transaction that leases the job (SELECT ... FOR UPDATE SKIP
LOCKED on PostgreSQL; SQLite's write lock serializes claims). The handler runs
outside any transaction, so a slow mail server holds no database lock. A
worker that dies mid-job leaves its lease to run out; the next claim retries
the job. Worker names are `host:pid:token`, so a worker starting on the same
host takes back at once the leases of workers whose process is gone.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import sys
import time
import traceback
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from numfree.logging import scrub
from numfree.outbox import crypto, registry
from numfree.outbox.models import Job, JobQuerySet
from numfree.outbox.registry import JobSpec, Payload, PermanentFailure, RetryLater
from numfree.outbox.scheduling import ensure_periodic, next_period, periodic_key
from numfree.sqlite_wal import truncate_wal

log = logging.getLogger("numfree.outbox")

# How often a running worker re-creates a periodic job's row if it went missing.
_PERIODIC_CHECK_SECONDS = 300.0
# While the database is unreachable the worker tries again at most this far apart (with
# jitter, so workers do not retry in step): the outbox is back within ~2 s of the database.
DB_RETRY_MAX_SECONDS = 2.0


class UnknownJobKind(Exception):
    """No handler is registered for the job's kind (e.g. an older worker during a deploy)."""


def retry_delay(attempt: int, max_delay: timedelta | None = None) -> timedelta:
    """Wait after the `attempt`-th failure: base * 2^(attempt-1), capped, then up to 20% shorter at random.

    The jitter only shortens a delay, so delays still grow from one attempt to
    the next and never pass the cap (the kind's `max_delay`, else the global
    one), and a burst of failures does not retry in lockstep.
    """
    base = settings.OUTBOX_BACKOFF_BASE_SECONDS
    cap = settings.OUTBOX_BACKOFF_MAX_SECONDS if max_delay is None else max_delay.total_seconds()
    seconds = min(cap, base * 2 ** min(max(attempt, 1) - 1, 40))
    return timedelta(seconds=seconds * random.uniform(0.8, 1.0))  # noqa: S311 - spreading retries, not a secret


def max_attempts(spec: JobSpec | None) -> int:
    if spec is not None and spec.retry_for is not None:
        return sys.maxsize  # its expiry, not a count, ends the retries
    return (spec.max_attempts if spec else None) or settings.OUTBOX_MAX_ATTEMPTS


def describe_error(exc: BaseException, payload: Payload | None) -> str:
    """The exception's class and a short scrubbed message; the message is withheld if it quotes the payload."""
    message = " ".join(str(exc).split())
    if message and payload and _quotes_payload(message, payload):
        message = "(message withheld: it quoted the job's payload)"
    message = scrub(message)[:160]
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def _quotes_payload(message: str, payload: Payload) -> bool:
    for value in _strings(payload):
        if len(value) >= 4 and value in message:
            return True
        if any(len(word) >= 8 and word in message for word in value.split()):
            return True
    return False


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield str(value)


def _where(exc: BaseException) -> str:
    """The innermost line of our own code in the traceback (source locations only, no values)."""
    frames = traceback.extract_tb(exc.__traceback__)
    base = str(settings.BASE_DIR) + os.sep
    ours = [f for f in frames if f.filename.startswith(base) and f"{os.sep}.venv{os.sep}" not in f.filename]
    frame = (ours or frames or [None])[-1]
    if frame is None:
        return "?"
    return f"{frame.filename.removeprefix(base)}:{frame.lineno} in {frame.name}"


def _process_is_gone(pid: int) -> bool:
    """True only when no process has this PID here (a PID reused by another process counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class Worker:
    """Runs outbox jobs. `run()` loops until stopped; `run_one()` runs at most one due job."""

    def __init__(self, name: str | None = None, *, lease_seconds: float | None = None) -> None:
        self.host = socket.gethostname()
        self.name = (name or f"{self.host}:{os.getpid()}:{secrets.token_hex(3)}")[:100]
        self.lease = timedelta(seconds=lease_seconds or settings.OUTBOX_LEASE_SECONDS)
        self.poll_seconds = settings.WORKER_POLL_SECONDS
        self.stop_reason: str | None = None
        self._erased_since_checkpoint = False

    def stop(self, reason: str = "stop requested") -> None:
        """Ask the loop to exit after the current job (safe to call from a signal handler)."""
        self.stop_reason = reason

    @property
    def stopping(self) -> bool:
        return self.stop_reason is not None

    def run(self, *, burst: bool = False, max_jobs: int | None = None, periodic: bool = True) -> int:
        """Run jobs until stopped (or, with `burst`, until none is due); returns how many ran."""
        registry.autodiscover()
        log.info("worker %s started%s", self.name, " (burst)" if burst else "")
        self.reclaim_dead_leases()
        ran = 0
        db_failures = 0
        outage_started = 0.0
        next_periodic_check = 0.0
        while not self.stopping and (max_jobs is None or ran < max_jobs):
            try:
                if db_failures:
                    self._release_own_leases()
                if periodic and time.monotonic() >= next_periodic_check:
                    ensure_periodic()
                    next_periodic_check = time.monotonic() + _PERIODIC_CHECK_SECONDS
                ran_one = self.run_one()
            except (OperationalError, InterfaceError) as exc:
                if burst:
                    raise
                if not db_failures:  # once per outage, not once per attempt
                    outage_started = time.monotonic()
                    log.warning(
                        "worker %s: database error %s; trying again every %.1f s at most until it answers",
                        self.name,
                        type(exc).__name__,
                        DB_RETRY_MAX_SECONDS,
                    )
                db_failures += 1
                connection.close()
                self._sleep(self.db_retry_pause(db_failures))
                continue
            if db_failures:
                log.warning(
                    "worker %s: database answers again after %.1f s (%d attempts)",
                    self.name,
                    time.monotonic() - outage_started,
                    db_failures,
                )
                db_failures = 0
            if ran_one:
                ran += 1
                continue
            self._checkpoint_sqlite()
            if burst:
                break
            self._sleep(self.poll_seconds)
        self._checkpoint_sqlite()
        log.info("worker %s stopped (%s) after %d jobs", self.name, self.stop_reason or "done", ran)
        return ran

    def db_retry_pause(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th database error in a row: doubling from the
        poll interval, at most DB_RETRY_MAX_SECONDS, less up to half of it as jitter."""
        pause = min(DB_RETRY_MAX_SECONDS, self.poll_seconds * 2 ** min(failures - 1, 16))
        return pause * random.uniform(0.5, 1.0)  # noqa: S311 - spreading retries, not a secret

    def run_one(self) -> bool:
        """Claim the next due job and run it; False when none is due."""
        job = self._claim()
        if job is None:
            return False
        self._run(job)
        return True

    # --- claiming ---------------------------------------------------------

    def _claim(self) -> Job | None:
        now = timezone.now()
        lease_end = now + self.lease
        with transaction.atomic():
            job = Job.objects.due(now).select_for_update(skip_locked=True).order_by("run_at", "id").first()
            if job is None:
                return None
            if job.locked_by:
                job.last_error = f"LeaseExpired: attempt {job.attempts} did not finish within the lease"
            job.attempts += 1
            job.locked_by = self.name
            job.locked_until = job.run_at = lease_end
            job.save(update_fields=["attempts", "locked_by", "locked_until", "run_at", "last_error"])
        return job

    def reclaim_dead_leases(self) -> int:
        """Make due now the jobs leased by workers of this host whose process is gone; returns how many.

        A lease names its worker `host:pid:token`. A PID with no process, or
        our own PID under another worker's name (a container restarted with
        the same PID), means that worker died mid-job: waiting out its lease
        only delays the job. Each row is taken back by a conditional UPDATE on
        the same `locked_by`, so a worker that is in fact alive and finishing
        keeps its lease if it records its result first; the next claim
        records `LeaseExpired` for the lost attempt as usual.
        """
        now = timezone.now()
        prefix = f"{self.host}:"
        leases = (
            Job.objects.pending()
            .filter(locked_by__startswith=prefix, locked_until__gt=now)
            .exclude(locked_by=self.name)
            .values_list("locked_by", flat=True)
            .distinct()
        )
        taken = 0
        for owner in list(leases):
            pid_text = owner.removeprefix(prefix).split(":", 1)[0]
            if not pid_text.isdigit():
                continue
            pid = int(pid_text)
            if pid != os.getpid() and not _process_is_gone(pid):
                continue
            taken += (
                Job.objects.pending().filter(locked_by=owner, locked_until__gt=now).update(run_at=now, locked_until=now)
            )
        if taken:
            log.warning("worker %s: took back %d job(s) leased by dead workers on this host", self.name, taken)
        return taken

    def _release_own_leases(self) -> int:
        """After a database outage: a job this worker held when the database went away is not
        running any more (its result could not be recorded), so it is due again now instead of
        after its lease, which would also hold back the rest of its sequence (a user's texts)."""
        now = timezone.now()
        taken = (
            Job.objects.pending().filter(locked_by=self.name, locked_until__gt=now).update(run_at=now, locked_until=now)
        )
        if taken:
            log.warning("worker %s: took back %d job(s) it held when the database went away", self.name, taken)
        return taken

    def _owned(self, job: Job) -> JobQuerySet:
        """The job's row, if this worker still holds its lease."""
        return Job.objects.filter(pk=job.pk, locked_by=self.name)

    @staticmethod
    def _is_periodic(job: Job, spec: JobSpec | None) -> bool:
        return spec is not None and spec.is_periodic and job.dedupe_key == periodic_key(job.kind)

    # --- running ----------------------------------------------------------

    def _run(self, job: Job) -> None:
        spec = registry.get(job.kind)
        started = time.perf_counter()
        try:
            if spec is None:
                raise UnknownJobKind("no handler is registered for this kind")
            payload = crypto.unseal(job.kind, job.payload or b"")
        except (UnknownJobKind, crypto.UnreadablePayload) as exc:
            self._failed(job, spec, None, exc)
            return
        if job.expires_at is not None and timezone.now() >= job.expires_at:
            self._give_up(job, spec, payload, "Expired: not done before its deadline")
            return
        if job.attempts > max_attempts(spec) and not self._is_periodic(job, spec):
            self._give_up(job, spec, payload, job.last_error or "LeaseExpired")
            return
        try:
            spec.handler(payload)
        except Exception as exc:
            self._failed(job, spec, payload, exc)
            return
        self._succeeded(job, spec, time.perf_counter() - started)

    def _succeeded(self, job: Job, spec: JobSpec, seconds: float) -> None:
        if self._is_periodic(job, spec):
            assert spec.every is not None
            owned = self._owned(job).update(
                # On the grid that started when the row was made, whatever retries did meanwhile.
                run_at=next_period(job.created_at, spec.every, timezone.now()),
                attempts=0,
                last_error="",
                locked_until=None,
                locked_by="",
            )
        else:
            owned, _ = self._owned(job).delete()
            self._erased_since_checkpoint = True
        if not owned:
            self._lease_lost(job)
        log.info("job %s %s attempt %d: done in %.0f ms", job.pk, job.kind, job.attempts, seconds * 1000)

    def _failed(self, job: Job, spec: JobSpec | None, payload: Payload | None, exc: Exception) -> None:
        error = describe_error(exc, payload)
        now = timezone.now()
        if self._is_periodic(job, spec):
            assert spec is not None and spec.every is not None
            run_at = now + min(retry_delay(job.attempts), spec.every)
        elif isinstance(exc, PermanentFailure) or job.attempts >= max_attempts(spec):
            self._give_up(job, spec, payload, error)
            return
        else:
            run_at = now + retry_delay(job.attempts, spec.max_delay if spec else None)
            if job.expires_at is not None:
                run_at = min(run_at, job.expires_at)  # so the expiry is handled on time
        if not self._owned(job).update(run_at=run_at, last_error=error[:300], locked_until=None, locked_by=""):
            self._lease_lost(job)
        limit = max_attempts(spec)
        log.log(
            logging.INFO if isinstance(exc, RetryLater) else logging.WARNING,
            "job %s %s attempt %d/%s failed: %s at %s; retry in %.0f s",
            job.pk,
            job.kind,
            job.attempts,
            "until expiry" if limit == sys.maxsize else limit,
            type(exc).__name__,
            _where(exc),
            (run_at - now).total_seconds(),
        )

    def _give_up(self, job: Job, spec: JobSpec | None, payload: Payload | None, reason: str) -> None:
        """Drop the job: tell its on_expire hook, erase the payload, keep the row as failed for support."""
        with transaction.atomic():
            if not list(self._owned(job).select_for_update().values_list("pk", flat=True)):
                self._lease_lost(job)
                return
            if spec is not None and spec.on_expire is not None:
                if payload is None:
                    reason += "; on_expire skipped: payload unreadable"
                else:
                    try:
                        with transaction.atomic():
                            spec.on_expire(payload)
                    except Exception as exc:
                        reason += f"; on_expire failed: {type(exc).__name__}"
                        log.error(
                            "job %s %s: on_expire failed: %s at %s", job.pk, job.kind, type(exc).__name__, _where(exc)
                        )
            now = timezone.now()
            self._owned(job).update(
                payload=None,
                failed_at=now,
                run_at=now,
                last_error=reason[:300],
                dedupe_key=None,
                locked_until=None,
                locked_by="",
            )
        self._erased_since_checkpoint = True
        log.warning("job %s %s given up after %d attempt(s): %s", job.pk, job.kind, job.attempts, reason.split(":")[0])

    def _lease_lost(self, job: Job) -> None:
        log.warning(
            "job %s %s outlasted its lease of %.0f s; another worker may have run it too",
            job.pk,
            job.kind,
            self.lease.total_seconds(),
        )

    # --- housekeeping -----------------------------------------------------

    def _checkpoint_sqlite(self) -> None:
        """Truncate SQLite's WAL once erased payloads reached the database file (zeroed by secure_delete)."""
        if self._erased_since_checkpoint and truncate_wal():
            self._erased_since_checkpoint = False  # else a reader held it: the next idle poll tries again

    def _sleep(self, seconds: float) -> None:
        """Sleep in short steps so a stop request is seen within a fraction of a second."""
        deadline = time.monotonic() + seconds
        while not self.stopping and (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(0.2, remaining))
