"""A job not done before its deadline is dropped, and its on_expire hook is told exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from numfree.mail import queue_email
from numfree.outbox import enqueue, job
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending


@pytest.fixture
def sms() -> dict[str, list[dict]]:
    """A forwarding job that cannot deliver, whose expiry tells the user by email."""
    seen: dict[str, list[dict]] = {"runs": [], "expired": []}

    def not_forwarded(payload: dict) -> None:
        seen["expired"].append(payload)
        queue_email("alice@example.com", "A text could not be forwarded", "outbox_tests/plain.txt", {"line": "sorry"})

    @job("tests.forward_sms", max_attempts=100, expires_after=timedelta(hours=72), on_expire=not_forwarded)
    def forward(payload: dict) -> None:
        seen["runs"].append(payload)
        raise ConnectionError("mail server down")

    return seen


@pytest.mark.django_db
def test_an_undeliverable_job_expires_on_time_and_on_expire_runs_once(sms, time_machine, settings):
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 6 * 3600
    start = datetime(2030, 1, 1, 12, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    job_id = enqueue("tests.forward_sms", {"body": "see you at 8"})

    # A worker looks every hour for four days.
    for hour in range(1, 97):
        time_machine.move_to(start + timedelta(hours=hour), tick=False)
        run_pending()

    row = Job.objects.get(pk=job_id)
    assert sms["expired"] == [{"body": "see you at 8"}]
    assert row.failed_at is not None and row.payload is None
    assert row.last_error.startswith("Expired")
    # The last retry was moved up to the deadline: it expired at 72 h, not hours later.
    assert row.failed_at.isoformat() == "2030-01-04T12:00:00+00:00"
    assert [m.subject for m in mail.outbox] == ["A text could not be forwarded"]
    assert len(sms["runs"]) > 5


@pytest.mark.django_db
def test_a_job_already_expired_when_a_worker_gets_to_it_never_runs(sms, time_machine):
    time_machine.move_to("2030-01-01 12:00Z", tick=False)
    enqueue("tests.forward_sms", {"body": "hello"})

    time_machine.move_to("2030-01-05 12:00Z", tick=False)  # the worker was down for four days
    assert run_pending() == 2  # the expired job, then the notice it queued
    assert sms["runs"] == []
    assert sms["expired"] == [{"body": "hello"}]
    assert run_pending() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_running_out_of_attempts_also_tells_on_expire_once():
    told = []

    @job("tests.short_lived", max_attempts=2, on_expire=told.append)
    def handler(payload: dict) -> None:
        raise ConnectionError("down")

    enqueue("tests.short_lived", {"n": 1}, delay=0)
    run_pending()
    Job.objects.update(run_at=Job.objects.get().created_at)
    run_pending()
    run_pending()
    assert told == [{"n": 1}]


@pytest.mark.django_db
def test_a_failing_on_expire_hook_still_drops_the_job_and_records_why():
    def broken_hook(payload: dict) -> None:
        raise RuntimeError("cannot notify")

    @job("tests.hook_fails", max_attempts=1, on_expire=broken_hook)
    def handler(payload: dict) -> None:
        raise ConnectionError("down")

    job_id = enqueue("tests.hook_fails", {"n": 1})
    run_pending()
    row = Job.objects.get(pk=job_id)
    assert row.failed_at is not None and row.payload is None
    assert row.last_error == "ConnectionError: down; on_expire failed: RuntimeError"
