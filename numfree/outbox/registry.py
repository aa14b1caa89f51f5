"""Which function runs each kind of outbox job, and which jobs run on a schedule.

Apps declare their handlers in `<app>/jobs.py`; those modules are imported
(`autodiscover`) the first time the registry is asked for a handler.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils.module_loading import autodiscover_modules

Payload = dict[str, Any]
Handler = Callable[[Payload], None]

_KIND = re.compile(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)+$")


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the job is given up at once."""


class RetryLater(Exception):
    """Raised by a handler when the job cannot be done yet, as expected (a provider still
    processing): it is retried like any failure, logged at INFO instead of WARNING."""


@dataclass(frozen=True)
class JobSpec:
    kind: str
    handler: Handler
    # None: settings.OUTBOX_MAX_ATTEMPTS, read when the job runs.
    max_attempts: int | None = None
    # Counted from enqueue: a job not done by then is dropped.
    expires_after: timedelta | None = None
    # Called once with the payload when the job is dropped without success.
    on_expire: Handler | None = None
    # Set for periodic jobs: one row per name, rescheduled after each run.
    every: timedelta | None = None
    # Retried (attempts not counted) until this long after enqueue, then given up.
    retry_for: timedelta | None = None
    # The longest wait between two attempts of this kind, instead of the global cap.
    max_delay: timedelta | None = None

    @property
    def is_periodic(self) -> bool:
        return self.every is not None


_specs: dict[str, JobSpec] = {}
_discovered = False
_discover_lock = threading.RLock()


def job(
    kind: str,
    *,
    max_attempts: int | None = None,
    expires_after: timedelta | None = None,
    on_expire: Handler | None = None,
    retry_for: timedelta | None = None,
    max_delay: timedelta | None = None,
) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of `kind` (e.g. "telephony.forward_sms").

    `retry_for` retries the job however many attempts it takes until that long
    after enqueue (it sets the expiry; not with `max_attempts`/`expires_after`);
    `max_delay` caps the wait between two attempts of this kind.
    """
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    if expires_after is not None and expires_after <= timedelta(0):
        raise ValueError("expires_after must be a positive duration")
    if retry_for is not None:
        if retry_for <= timedelta(0):
            raise ValueError("retry_for must be a positive duration")
        if max_attempts is not None or expires_after is not None:
            raise ValueError(
                "retry_for sets the expiry and lifts the attempt limit: not with max_attempts/expires_after"
            )
        expires_after = retry_for
    if max_delay is not None and max_delay <= timedelta(0):
        raise ValueError("max_delay must be a positive duration")

    def register(handler: Handler) -> Handler:
        _add(JobSpec(kind, handler, max_attempts, expires_after, on_expire, retry_for=retry_for, max_delay=max_delay))
        return handler

    return register


def periodic(name: str, *, every: timedelta) -> Callable[[Handler], Handler]:
    """Register the decorated function to run once per `every`, across all workers."""
    if every <= timedelta(0):
        raise ValueError("every must be a positive duration")

    def register(handler: Handler) -> Handler:
        _add(JobSpec(name, handler, every=every))
        return handler

    return register


def _add(spec: JobSpec) -> None:
    if not _KIND.match(spec.kind) or len(spec.kind) > 100:
        raise ValueError(f"job kind {spec.kind!r} must look like 'app.what' (lowercase, dots, at most 100 chars)")
    existing = _specs.get(spec.kind)
    if existing is not None and _origin(existing.handler) != _origin(spec.handler):
        raise ValueError(f"job kind {spec.kind!r} is registered twice")
    _specs[spec.kind] = spec


def _origin(handler: Handler) -> str:
    return f"{getattr(handler, '__module__', '')}.{getattr(handler, '__qualname__', repr(handler))}"


def autodiscover() -> None:
    """Import every installed app's jobs.py once (the handlers register themselves)."""
    global _discovered
    if _discovered:
        return
    with _discover_lock:
        if not _discovered:
            autodiscover_modules("jobs")
            _discovered = True


def get(kind: str) -> JobSpec | None:
    autodiscover()
    return _specs.get(kind)


def periodic_specs() -> list[JobSpec]:
    autodiscover()
    return [spec for spec in _specs.values() if spec.is_periodic]


def snapshot() -> dict[str, JobSpec]:
    """The current registrations (tests restore them after registering their own)."""
    autodiscover()
    return dict(_specs)


def restore(saved: dict[str, JobSpec]) -> None:
    _specs.clear()
    _specs.update(saved)
