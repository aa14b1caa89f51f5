"""Test helpers: run the outbox in-process, and register test-only jobs without leaking them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from numfree.outbox import registry
from numfree.outbox.scheduling import ensure_periodic
from numfree.outbox.worker import Worker


def run_pending(*, periodic: bool = False, max_jobs: int = 1000) -> int:
    """Run every due job now, as the worker would (failures are retried later, not raised).

    Jobs queued by the jobs that run are run too. Periodic jobs are scheduled
    only with `periodic=True`, so other tests' counts do not include them.
    Returns how many jobs ran (succeeded or not).
    """
    if periodic:
        ensure_periodic()
    return Worker(name="tests").run(burst=True, max_jobs=max_jobs, periodic=False)


@contextmanager
def isolated_jobs(*, periodic: bool = True) -> Iterator[None]:
    """Jobs registered inside the block are forgotten after it.

    With `periodic=False` the apps' own periodic jobs are left out inside the
    block, so a test of scheduling sees only its own.
    """
    saved = registry.snapshot()
    if not periodic:
        registry.restore({kind: spec for kind, spec in saved.items() if not spec.is_periodic})
    try:
        yield
    finally:
        registry.restore(saved)
