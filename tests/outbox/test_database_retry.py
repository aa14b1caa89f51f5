"""After a database error the worker tries again at most ~2 s apart however long the outage lasted
(it used to double up to 30 s, which alone could push recovery past 10 s), and says so once per
outage, not once per attempt."""

from __future__ import annotations

import logging

import pytest
from django.db import OperationalError

from numfree.outbox import enqueue, job
from numfree.outbox import worker as worker_module
from numfree.outbox.models import Job
from numfree.outbox.testing import isolated_jobs
from numfree.outbox.worker import DB_RETRY_MAX_SECONDS, Worker

OUTAGE_ATTEMPTS = 40  # at 2 s apart, well over a minute of outage


@pytest.mark.django_db
def test_a_long_outage_is_retried_at_a_short_bounded_interval_and_logged_once(monkeypatch, caplog) -> None:
    runs: list[dict] = []
    with isolated_jobs():
        job("tests.after_outage")(runs.append)
        enqueue("tests.after_outage", {"n": 1})
        worker = Worker(name="tests-db-retry")
        run_one = worker.run_one
        attempts: list[int] = []

        def database_down_for_a_while() -> bool:
            attempts.append(1)
            if len(attempts) <= OUTAGE_ATTEMPTS:
                raise OperationalError("connection refused")
            return run_one()

        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) > OUTAGE_ATTEMPTS + 5:
                worker.stop("bounded")

        # The test database stays open (the worker closes its connection after a database error).
        monkeypatch.setattr(worker_module.connection, "close", lambda: None)
        monkeypatch.setattr(worker, "run_one", database_down_for_a_while)
        monkeypatch.setattr(worker, "_sleep", sleep)
        with caplog.at_level(logging.INFO, logger="numfree.outbox"):
            worker.run(max_jobs=1, periodic=False)

    assert runs == [{"n": 1}]  # the job ran as soon as the database answered
    assert not Job.objects.exists()
    outage_sleeps = sleeps[:OUTAGE_ATTEMPTS]
    assert len(outage_sleeps) == OUTAGE_ATTEMPTS
    assert max(outage_sleeps) <= DB_RETRY_MAX_SECONDS <= 2.0
    assert min(outage_sleeps) > 0
    assert len(set(outage_sleeps)) > 1  # jittered: workers do not retry in step
    messages = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert sum("database error OperationalError" in message for message in messages) == 1
    assert (
        sum("database answers again" in message and f"({OUTAGE_ATTEMPTS} attempts)" in message for message in messages)
        == 1
    )
    assert not any("connection refused" in message for message in messages)


def test_the_pause_starts_at_the_poll_interval_and_never_passes_the_cap(settings) -> None:
    settings.WORKER_POLL_SECONDS = 0.25
    worker = Worker(name="tests-db-retry-pause")
    for failures, ceiling in [(1, 0.25), (2, 0.5), (3, 1.0), (4, 2.0), (5, 2.0), (1000, 2.0)]:
        pauses = [worker.db_retry_pause(failures) for _ in range(50)]
        assert all(ceiling / 2 <= pause <= ceiling for pause in pauses), (failures, min(pauses), max(pauses))
