"""Fixtures for the outbox tests: test-only jobs that do not leak, and the test email templates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from numfree.outbox.testing import isolated_jobs

TEMPLATES_DIR = Path(__file__).parent / "templates"


@pytest.fixture(autouse=True)
def _isolated_jobs() -> Iterator[None]:
    with isolated_jobs():
        yield


@pytest.fixture(autouse=True)
def _test_templates(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [TEMPLATES_DIR]}]


@pytest.fixture(autouse=True)
def _backoff(settings) -> None:  # type: ignore[no-untyped-def]
    settings.OUTBOX_BACKOFF_BASE_SECONDS = 10.0
    settings.OUTBOX_BACKOFF_MAX_SECONDS = 3600.0
    settings.OUTBOX_MAX_ATTEMPTS = 12
    settings.OUTBOX_LEASE_SECONDS = 300
