"""The fault suite's topology (one for the whole suite) and its table of results.

Runs only in CI's PostgreSQL pass: skipped with the reason when DATABASE_URL is not postgres://, or
when initdb/pg_ctl/redis-server are missing (a failure then if CI=true).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import IN_CI
from tests.faults.topology import HEADER, Row, Topology, missing_tools

REPO = Path(__file__).resolve().parents[2]
# Under var/ (ignored by git), like the browser suite's screenshots.
TABLE = REPO / "var" / "test-output" / "faults.txt"
_rows: list[Row] = []


def _why_not() -> str | None:
    if not settings.DATABASE_IS_POSTGRES:
        return "the fault suite runs in CI's PostgreSQL pass (DATABASE_URL=postgres://...)"
    missing = missing_tools()
    if missing:
        reason = "the fault suite needs " + ", ".join(missing)
        if IN_CI:
            pytest.fail(f"CI=true and {reason}")
        return reason
    return None


@pytest.fixture(scope="session")
def topology() -> Iterator[Topology]:
    reason = _why_not()
    if reason:
        print(f"\nSKIPPED fault suite: {reason}")
        pytest.skip(reason)
    directory = Path(tempfile.mkdtemp(prefix="numfree-faults-"))
    top = Topology.start(directory)
    try:
        yield top
    finally:
        top.stop()
        if IN_CI or os.environ.get("NUMFREE_FAULTS_KEEP"):
            print(f"\nfault suite logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def fault_table() -> Iterator[list[Row]]:
    """Rows the fault tests add; printed (pytest -s) and written to var/test-output/faults.txt at the end."""
    yield _rows
    if not _rows:
        return
    text = "\n".join([HEADER, *(row.line() for row in _rows)]) + "\n"
    TABLE.parent.mkdir(exist_ok=True)
    TABLE.write_text(text)
    print("\n" + text)
