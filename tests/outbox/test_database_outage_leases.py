"""A job a worker held when the database went away runs again as soon as the database is back,
not after its 300 s lease (which would also hold back the rest of a user's texts)."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from numfree.outbox import enqueue, job
from numfree.outbox import worker as worker_module
from numfree.outbox.models import Job
from numfree.outbox.testing import isolated_jobs
from numfree.outbox.worker import Worker


@pytest.mark.django_db
def test_a_job_caught_by_a_database_outage_runs_again_when_the_database_is_back(monkeypatch) -> None:
    runs: list[str] = []
    with isolated_jobs():

        @job("tests.outage_caught")
        def caught(payload: dict) -> None:
            runs.append("run")
            if len(runs) == 1:
                raise OperationalError("the database went away mid-job")

        enqueue("tests.outage_caught", {})
        worker = Worker(name="tests-outage", lease_seconds=300)
        failed = worker._failed

        def failing_while_down(*args: object) -> None:
            if len(runs) == 1:
                raise OperationalError("the result cannot be recorded either")
            failed(*args)  # type: ignore[arg-type]

        sleeps: list[float] = []

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) > 5:
                worker.stop("bounded")

        # The test database stays open (the worker closes its connection after a database error).
        monkeypatch.setattr(worker_module.connection, "close", lambda: None)
        monkeypatch.setattr(worker, "_failed", failing_while_down)
        monkeypatch.setattr(worker, "_sleep", sleep)
        worker.run(max_jobs=1, periodic=False)

    assert runs == ["run", "run"]
    assert not Job.objects.exists()
