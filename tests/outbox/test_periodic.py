"""A periodic job runs once per period, however many workers there are."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from numfree.outbox import periodic
from numfree.outbox.models import Job
from numfree.outbox.testing import isolated_jobs, run_pending
from numfree.outbox.worker import Worker


def _run_together(workers: list[Worker]) -> None:
    """Each worker drains what is due, in its own thread and connection, started at once."""
    barrier = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def drain(worker: Worker) -> None:
        try:
            barrier.wait(timeout=10)
            worker.run(burst=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)


@pytest.mark.django_db(transaction=True)
def test_a_periodic_job_runs_once_per_period_with_two_workers(time_machine):
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    runs: list[datetime] = []
    with isolated_jobs(periodic=False):
        periodic("tests.hourly", every=timedelta(hours=1))(lambda payload: runs.append(timezone.now()))
        workers = [Worker(name="one"), Worker(name="two")]

        for minutes in range(0, 181, 15):
            time_machine.move_to(start + timedelta(minutes=minutes), tick=False)
            _run_together(workers)

    assert runs == [start + timedelta(hours=h) for h in range(4)]
    assert Job.objects.filter(kind="tests.hourly").count() == 1


@pytest.mark.django_db
def test_periods_missed_while_no_worker_ran_are_not_made_up(time_machine):
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    runs: list[datetime] = []
    periodic("tests.hourly", every=timedelta(hours=1))(lambda payload: runs.append(timezone.now()))
    time_machine.move_to(start, tick=False)
    run_pending(periodic=True)

    time_machine.move_to(start + timedelta(hours=5, minutes=20), tick=False)
    run_pending(periodic=True)
    run_pending(periodic=True)
    row = Job.objects.get(kind="tests.hourly")

    assert runs == [start, start + timedelta(hours=5, minutes=20)]
    assert row.run_at == start + timedelta(hours=6)  # back on the hourly grid


@pytest.mark.django_db
def test_a_failing_periodic_job_is_retried_within_its_period_and_keeps_its_schedule(time_machine):
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    outcomes = iter([ConnectionError("down"), None, None])

    def flaky(payload: dict) -> None:
        if error := next(outcomes):
            raise error

    periodic("tests.flaky_hourly", every=timedelta(hours=1))(flaky)
    time_machine.move_to(start, tick=False)
    run_pending(periodic=True)
    row = Job.objects.get(kind="tests.flaky_hourly")
    assert row.failed_at is None and row.last_error == "ConnectionError: down"
    assert row.run_at <= start + timedelta(seconds=10)

    time_machine.move_to(row.run_at, tick=False)
    run_pending()
    row.refresh_from_db()
    assert row.last_error == "" and row.attempts == 0
    assert row.run_at == start + timedelta(hours=1)


@pytest.mark.django_db
def test_a_periodic_job_cannot_be_queued_by_hand():
    periodic("tests.nightly", every=timedelta(days=1))(lambda payload: None)
    from numfree.outbox import enqueue

    with pytest.raises(ValueError):
        enqueue("tests.nightly", {})
