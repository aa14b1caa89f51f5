"""A worker starting on a host takes back the leases of that host's dead workers, and only theirs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from numfree.outbox.models import Job
from numfree.outbox.worker import Worker

HOST = socket.gethostname()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def _leased(owner: str) -> Job:
    now = timezone.now()
    return Job.objects.create(
        kind="mail.send",
        payload=b"x",
        run_at=now + timedelta(seconds=300),
        locked_until=now + timedelta(seconds=300),
        locked_by=owner,
        attempts=1,
    )


@pytest.mark.django_db
def test_a_lease_held_by_a_dead_process_on_this_host_is_due_at_once():
    job = _leased(f"{HOST}:{_dead_pid()}:abc123")

    assert Worker().reclaim_dead_leases() == 1

    job.refresh_from_db()
    assert job.run_at <= timezone.now() and job in Job.objects.due(timezone.now())
    assert job.locked_by.startswith(HOST)  # the next claim records LeaseExpired for the lost attempt


@pytest.mark.django_db
def test_a_lease_under_our_own_pid_but_another_name_is_a_dead_predecessor():
    job = _leased(f"{HOST}:{os.getpid()}:old000")

    assert Worker().reclaim_dead_leases() == 1
    job.refresh_from_db()
    assert job in Job.objects.due(timezone.now())


@pytest.mark.django_db
def test_leases_of_live_workers_other_hosts_and_odd_names_are_left_alone():
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        jobs = [
            _leased(f"{HOST}:{live.pid}:abc123"),
            _leased(f"elsewhere:{_dead_pid()}:abc123"),
            _leased(f"{HOST}:not-a-pid"),
            _leased("test-worker"),
        ]
        worker = Worker()
        jobs.append(_leased(worker.name))

        assert worker.reclaim_dead_leases() == 0
        assert not Job.objects.due(timezone.now()).filter(pk__in=[j.pk for j in jobs]).exists()
    finally:
        live.kill()
        live.wait()
