"""Faults lose no text: 200 signed texts over both web processes while PostgreSQL, Redis, the worker
or a web process fails; each is emailed exactly once and none is left at the fake Twilio.

Each test adds a row (sent / delivered / lost / duplicated / recovery seconds) to the table printed
at the end (pytest -s) and written to var/test-output/faults.txt. Recovery: from the end of the
fault until the last text sent before then was emailed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.faults.topology import Row, SmsStream, Topology

pytestmark = pytest.mark.postgres
COUNT = 200
# Every text is emailed within this long after the stream (reconciliation runs every 5 s here).
DELIVERY_DEADLINE = 60
RECOVERY_GOAL = 10


def _stream_through(
    topology: Topology,
    fault_table: list[Row],
    name: str,
    label: str,
    fault: Callable[[], None],
    targets: Callable[[int], int] = lambda index: index % 2,
) -> tuple[SmsStream, Row, int]:
    stream = topology.sms_stream(label, topology.number, COUNT)
    ended: dict[str, float] = {}

    def during() -> None:
        fault()
        ended["at"] = time.time()

    stream.run(targets, every=0.02, during=during, start_fault_at=40)
    counts = topology.wait_delivered(stream, timeout=DELIVERY_DEADLINE)
    left = topology.left_at_twilio(timeout=30)
    row = topology.row(name, stream, ended["at"], counts)
    fault_table.append(row)
    print(f"\n{row.line()}  (refused by the web processes: {len(stream.refused)}; left at Twilio: {left})")
    return stream, row, left


def _assert_nothing_lost(row: Row, left: int) -> None:
    assert (row.sent, row.delivered, row.lost, row.duplicated) == (COUNT, COUNT, 0, 0)
    assert left == 0, f"{left} texts left at the fake Twilio"
    assert row.recovery is not None and row.recovery <= RECOVERY_GOAL


def test_a_5_second_postgresql_stop_loses_no_text(topology: Topology, fault_table: list[Row]) -> None:
    def stop_postgres() -> None:
        topology.postgres.stop()
        time.sleep(5)
        topology.postgres.start()

    _stream, row, left = _stream_through(topology, fault_table, "PostgreSQL stopped 5 s", "pg-stop", stop_postgres)
    _assert_nothing_lost(row, left)


def test_a_fast_postgresql_restart_loses_no_text(topology: Topology, fault_table: list[Row]) -> None:
    _stream, row, left = _stream_through(
        topology, fault_table, "PostgreSQL restart (fast)", "pg-restart", topology.postgres.restart
    )
    _assert_nothing_lost(row, left)


def test_a_5_second_redis_outage_loses_no_text(topology: Topology, fault_table: list[Row]) -> None:
    def stop_redis() -> None:
        topology.redis.stop()
        time.sleep(5)
        topology.redis.start()

    _stream, row, left = _stream_through(topology, fault_table, "Redis down 5 s", "redis-down", stop_redis)
    _assert_nothing_lost(row, left)


def test_a_killed_worker_restarted_loses_and_repeats_no_text(topology: Topology, fault_table: list[Row]) -> None:
    def kill_worker() -> None:
        topology.worker.kill()
        topology.worker.start()

    _stream, row, left = _stream_through(topology, fault_table, "worker kill -9, restarted", "worker-kill", kill_worker)
    _assert_nothing_lost(row, left)


def test_a_killed_web_process_loses_nothing_it_accepted(topology: Topology, fault_table: list[Row]) -> None:
    """Twilio does not retry an inbound webhook: after the kill, texts go to the live process only.
    What the killed process accepted must arrive; what it was cut off from, reconciliation brings."""
    state = {"killed": False}

    def kill_web() -> None:
        topology.web[0].kill()
        state["killed"] = True
        topology.web[0].start()  # waits until healthy
        state["killed"] = False

    def targets(index: int) -> int:
        return 1 if state["killed"] else index % 2

    stream, row, left = _stream_through(
        topology, fault_table, "web process kill -9, restarted", "web-kill", kill_web, targets
    )
    counts, _first = topology.emails(stream.label)
    assert all(counts[token] == 1 for token in stream.accepted), "a text a web process accepted was lost"
    _assert_nothing_lost(row, left)
