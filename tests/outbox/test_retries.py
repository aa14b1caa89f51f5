"""A failing job is retried with growing delays, then given up with its payload erased."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from numfree.outbox import PermanentFailure, enqueue, job
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending
from numfree.outbox.worker import Worker, retry_delay

SECRET = "the-body-of-a-private-text-message"


class MailServerDown(ConnectionError):
    pass


@pytest.fixture
def always_failing() -> list[dict]:
    calls: list[dict] = []

    @job("tests.always_fails", max_attempts=5)
    def handler(payload: dict) -> None:
        calls.append(payload)
        raise MailServerDown("421 service not available, closing channel")

    return calls


@pytest.mark.django_db
def test_a_failing_job_is_retried_with_growing_delays_then_given_up_with_its_payload_erased(
    always_failing, time_machine, caplog
):
    caplog.set_level(logging.INFO, logger="numfree.outbox")
    time_machine.move_to("2030-01-01 12:00Z", tick=False)
    job_id = enqueue("tests.always_fails", {"body": SECRET, "to": "alice@example.com"})

    delays = []
    for attempt in range(1, 5):
        assert run_pending() == 1
        row = Job.objects.get(pk=job_id)
        assert row.attempts == attempt
        assert row.failed_at is None and row.payload is not None
        assert row.last_error == "MailServerDown: 421 service not available, closing channel"
        delay = (row.run_at - timezone.now()).total_seconds()
        nominal = 10 * 2 ** (attempt - 1)
        assert 0.8 * nominal <= delay <= nominal
        delays.append(delay)
        assert run_pending() == 0  # not before its time
        time_machine.move_to(row.run_at, tick=False)
    assert delays == sorted(delays) and delays[0] < delays[-1]

    assert run_pending() == 1  # the fifth and last attempt
    row = Job.objects.get(pk=job_id)
    assert row.failed_at is not None
    assert row.payload is None
    assert row.kind == "tests.always_fails" and row.attempts == 5
    assert row.last_error.startswith("MailServerDown")
    assert len(always_failing) == 5

    time_machine.move_to(timezone.now() + timedelta(days=1), tick=False)
    assert run_pending() == 0  # a job given up never runs again
    assert SECRET not in caplog.text and "alice@example.com" not in caplog.text
    assert f"job {job_id} tests.always_fails attempt 4/5 failed: MailServerDown" in caplog.text
    assert f"job {job_id} tests.always_fails given up after 5 attempt(s): MailServerDown" in caplog.text


def test_the_backoff_doubles_from_the_base_and_stops_at_the_cap(settings):
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 10
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 3600
    for attempt, nominal in [(1, 10), (2, 20), (5, 160), (9, 2560), (10, 3600), (30, 3600), (500, 3600)]:
        for _ in range(20):
            seconds = retry_delay(attempt).total_seconds()
            assert 0.8 * nominal <= seconds <= nominal


@pytest.mark.django_db
def test_a_permanent_failure_is_given_up_at_once():
    calls = []

    @job("tests.permanent")
    def handler(payload: dict) -> None:
        calls.append(payload)
        raise PermanentFailure("the number was released")

    job_id = enqueue("tests.permanent", {"n": 1})
    assert run_pending() == 1
    row = Job.objects.get(pk=job_id)
    assert row.failed_at is not None and row.payload is None and row.attempts == 1
    assert row.last_error == "PermanentFailure: the number was released"
    assert len(calls) == 1


@pytest.mark.django_db
def test_an_error_message_that_quotes_the_payload_is_not_stored():
    @job("tests.leaky")
    def handler(payload: dict) -> None:
        raise ValueError(f"cannot parse {payload['body']!r} for alice@example.com")

    job_id = enqueue("tests.leaky", {"body": SECRET})
    run_pending()
    error = Job.objects.get(pk=job_id).last_error
    assert error == "ValueError: (message withheld: it quoted the job's payload)"


@pytest.mark.django_db
def test_an_email_address_in_an_error_message_is_masked():
    @job("tests.smtp_refusal")
    def handler(payload: dict) -> None:
        raise RuntimeError("550 mailbox bob@example.org unavailable")

    job_id = enqueue("tests.smtp_refusal", {"n": 1})
    run_pending()
    assert Job.objects.get(pk=job_id).last_error == "RuntimeError: 550 mailbox [email] unavailable"


@pytest.mark.django_db
def test_a_job_whose_worker_vanished_is_retried_after_the_lease_and_counted(time_machine, settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    calls = []
    job("tests.counted", max_attempts=2)(calls.append)
    time_machine.move_to("2030-01-01 12:00Z", tick=False)
    job_id = enqueue("tests.counted", {"n": 1})

    crashed = Worker(name="crashed")
    assert crashed._claim() is not None  # claimed, then the process died before running it
    assert run_pending() == 0  # leased
    time_machine.move_to("2030-01-01 12:01:01Z", tick=False)
    assert run_pending() == 1
    assert calls == [{"n": 1}]
    assert not Job.objects.filter(pk=job_id).exists()


@pytest.mark.django_db
def test_a_job_that_keeps_killing_its_worker_is_given_up_after_its_attempts(time_machine, settings):
    settings.OUTBOX_LEASE_SECONDS = 60
    calls = []
    job("tests.poison", max_attempts=2)(calls.append)
    time_machine.move_to("2030-01-01 12:00Z", tick=False)
    job_id = enqueue("tests.poison", {"n": 1})

    for minute in (1, 2):
        assert Worker(name=f"crashed-{minute}")._claim() is not None
        time_machine.move_to(f"2030-01-01 12:0{minute}:01Z", tick=False)
    assert run_pending() == 1
    row = Job.objects.get(pk=job_id)
    assert calls == []
    assert row.failed_at is not None and row.payload is None
    assert row.last_error.startswith("LeaseExpired: attempt 2 did not finish within the lease")
