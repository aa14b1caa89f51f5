"""The real `manage.py worker`: a worker killed mid-job loses nothing, SIGTERM finishes the job in hand,
and two workers on PostgreSQL never run a job twice."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from numfree.mail import queue_email
from numfree.outbox.models import Job

MANAGE = Path(settings.BASE_DIR) / "manage.py"


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


class Workers:
    """Starts worker processes on the test database and always stops them."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.tmp = tmp
        self.sent = tmp / "sent.log"
        self.started = tmp / "started.log"
        self.gate = tmp / "gate"
        self.env = {
            **env,
            "EMAIL_BACKEND": "tests.outbox.mail_backends.FileBackend",
            "NUMFREE_TEST_MAIL_LOG": str(self.sent),
            "NUMFREE_TEST_MAIL_STARTED": str(self.started),
            "NUMFREE_WORKER_POLL_SECONDS": "0.1",
        }
        self.processes: list[tuple[subprocess.Popen, Path]] = []

    def start(self, *args: str, **env: str) -> subprocess.Popen:
        log = self.tmp / f"worker-{len(self.processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, str(MANAGE), "worker", *args],
                cwd=settings.BASE_DIR,
                env={**self.env, **env},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.processes.append((process, log))
        return process

    def logs(self) -> str:
        return "\n".join(log.read_text() for _, log in self.processes if log.exists())

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; worker output:\n{self.logs()}")
            if any(process.poll() not in (None, 0) for process, _ in self.processes if process.returncode != -9):
                raise AssertionError(f"a worker exited while waiting for {what}:\n{self.logs()}")
            time.sleep(0.05)

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def workers(subprocess_env, tmp_path) -> Iterator[Workers]:  # type: ignore[no-untyped-def]
    group = Workers(subprocess_env, tmp_path)
    try:
        yield group
    finally:
        group.stop_all()


def _mail_jobs() -> int:
    return Job.objects.filter(kind="mail.send").count()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_on_another_host_leaves_the_job_and_the_next_worker_runs_it_after_the_lease(workers):
    queue_email("alice@example.com", "Only once", "outbox_tests/plain.txt", {"line": "hi"})
    lease = {"NUMFREE_OUTBOX_LEASE_SECONDS": "3", "NUMFREE_TEST_MAIL_GATE": str(workers.gate)}

    first = workers.start(**lease)
    workers.wait_for(lambda: len(_lines(workers.started)) == 1, "the first worker to start sending")
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    # As if it had run on another machine: this host cannot tell whether it is alive.
    Job.objects.filter(kind="mail.send").update(locked_by=f"elsewhere:{first.pid}:abcdef")

    row = Job.objects.get(kind="mail.send")
    assert row.attempts == 1 and row.locked_by and row.locked_until > timezone.now()
    assert _lines(workers.sent) == []

    workers.gate.touch()
    second = workers.start(**lease)
    workers.wait_for(lambda: _mail_jobs() == 0, "the second worker to send the email")
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) == 0

    assert [line["subject"] for line in _lines(workers.sent)] == ["Only once"]
    assert [line["pid"] for line in _lines(workers.sent)] == [second.pid]
    retried_at = _lines(workers.started)[1]["at"]
    assert retried_at >= row.locked_until.timestamp()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_job_on_this_host_has_its_job_run_again_within_five_seconds_and_only_once(workers):
    queue_email("alice@example.com", "Only once", "outbox_tests/plain.txt", {"line": "hi"})
    gated = {"NUMFREE_TEST_MAIL_GATE": str(workers.gate)}  # the default 300 s lease

    first = workers.start(**gated)
    workers.wait_for(lambda: len(_lines(workers.started)) == 1, "the first worker to start sending")
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL
    killed_at = time.time()
    assert Job.objects.get(kind="mail.send").locked_until > timezone.now() + timedelta(seconds=200)

    workers.gate.touch()
    second = workers.start()
    workers.wait_for(lambda: _mail_jobs() == 0, "the second worker to send the email", timeout=20)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) == 0

    assert [(line["subject"], line["pid"]) for line in _lines(workers.sent)] == [("Only once", second.pid)]
    # Within 5 s of the new worker being up (a supervisor restarts it within a second; on this
    # shared test machine Django's start-up alone can take seconds), not after the 300 s lease.
    up_at = _logged_at(workers.logs(), f"worker {socket.gethostname()}:{second.pid}:")
    assert killed_at < up_at + 1
    assert _lines(workers.started)[1]["at"] - up_at < 5
    assert "took back 1 job(s) leased by dead workers on this host" in workers.logs()


def _logged_at(logs: str, worker_prefix: str) -> float:
    """When the worker's "started" line was logged (the log's local-time asctime, to the millisecond)."""
    line = next(line for line in logs.splitlines() if worker_prefix in line and line.endswith("started"))
    return time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S")) + int(line[20:23]) / 1000


@pytest.mark.django_db(transaction=True)
def test_sigterm_lets_the_current_job_finish_then_the_worker_exits(workers):
    with transaction.atomic():
        queue_email("alice@example.com", "first", "outbox_tests/plain.txt", {"line": "1"})
        queue_email("alice@example.com", "second", "outbox_tests/plain.txt", {"line": "2"})

    worker = workers.start(NUMFREE_TEST_MAIL_GATE=str(workers.gate))
    workers.wait_for(lambda: len(_lines(workers.started)) == 1, "the worker to start sending")
    # The worker is sleeping in the send: the signal interrupts that sleep and its
    # handler runs before the send looks at the gate again.
    worker.send_signal(signal.SIGTERM)
    workers.gate.touch()

    assert worker.wait(timeout=20) == 0
    assert [line["subject"] for line in _lines(workers.sent)] == ["first"]
    assert "stopped (SIGTERM)" in workers.logs()
    left = Job.objects.get(kind="mail.send")
    assert left.attempts == 0 and left.locked_by == ""


@pytest.mark.django_db(transaction=True)
def test_burst_mode_drains_the_queue_and_exits(workers):
    with transaction.atomic():
        for n in range(3):
            queue_email("alice@example.com", f"message {n}", "outbox_tests/plain.txt", {"line": "x"})

    assert workers.start("--burst").wait(timeout=30) == 0
    assert sorted(line["subject"] for line in _lines(workers.sent)) == ["message 0", "message 1", "message 2"]
    assert _mail_jobs() == 0
    assert "alice@example.com" not in workers.logs()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_on_postgresql_send_each_of_200_emails_exactly_once(workers):
    pair = [workers.start(NUMFREE_TEST_MAIL_DELAY="0.005") for _ in range(2)]
    workers.wait_for(lambda: workers.logs().count(" started") == 2, "both workers to start")

    with transaction.atomic():
        for n in range(200):
            queue_email("alice@example.com", f"message {n}", "outbox_tests/plain.txt", {"line": str(n)})
    workers.wait_for(lambda: _mail_jobs() == 0, "the queue to drain", timeout=60)
    for process in pair:
        process.send_signal(signal.SIGTERM)
    assert [process.wait(timeout=10) for process in pair] == [0, 0]

    sent = _lines(workers.sent)
    per_subject = Counter(line["subject"] for line in sent)
    assert len(sent) == 200
    assert set(per_subject) == {f"message {n}" for n in range(200)}
    assert set(per_subject.values()) == {1}
    assert {line["pid"] for line in sent} == {process.pid for process in pair}  # both took part
