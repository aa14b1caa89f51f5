"""Fixtures of the privacy tests: staff members and a worker drained on demand."""

from __future__ import annotations

import pytest

from tests.conftest import make_user


@pytest.fixture
def staff(db):  # type: ignore[no-untyped-def]
    user = make_user("support@numfree.com", name="Support")
    user.is_staff = True
    user.save()
    from django.contrib.auth.models import Permission

    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def superuser(db):  # type: ignore[no-untyped-def]
    user = make_user("root@numfree.com", name="Root")
    user.is_staff = user.is_superuser = True
    user.save()
    return user


@pytest.fixture
def drain():  # type: ignore[no-untyped-def]
    from numfree.outbox.testing import run_pending

    def run() -> int:
        total = 0
        for _ in range(20):  # bounded: jobs may queue further jobs
            ran = run_pending()
            total += ran
            if not ran:
                return total
        return total

    return run
