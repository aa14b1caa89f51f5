"""Rate limits are sliding windows: no doubled budget at a window's edge, and an honest Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from numfree.ratelimits import RateLimited, enforce_account

START = datetime(2030, 1, 1, 12, tzinfo=UTC)


def attempt(request) -> bool:  # type: ignore[no-untyped-def]
    try:
        enforce_account(request, "login_account", "alice@example.com")
    except RateLimited:
        return False
    return True


def test_a_burst_across_any_window_edge_gets_no_more_than_the_limit(settings, time_machine):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": "5/m"}
    request = RequestFactory().post("/accounts/login/")
    allowed_per_start = []
    # Wherever the edge falls, ten wrong passwords within 2.6 s: five, then five 1.3 s later.
    for tenth in range(0, 600, 7):
        cache.clear()
        start = START + timedelta(seconds=tenth / 10)
        time_machine.move_to(start, tick=False)
        allowed = sum(attempt(request) for _ in range(5))
        time_machine.move_to(start + timedelta(seconds=1.3), tick=False)
        allowed += sum(attempt(request) for _ in range(5))
        allowed_per_start.append(allowed)
    assert max(allowed_per_start) == 5, allowed_per_start


def test_retry_after_is_neither_too_short_nor_too_long(settings, time_machine):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_account": "5/m"}
    request = RequestFactory().post("/accounts/login/")
    waits = []
    for early in (2, 0):  # one client comes back 2 s early, another on time
        cache.clear()
        time_machine.move_to(START + timedelta(seconds=20), tick=False)
        assert all(attempt(request) for _ in range(5))
        with pytest.raises(RateLimited) as refused:
            enforce_account(request, "login_account", "alice@example.com")
        waits.append(refused.value.retry_after)
        time_machine.move_to(START + timedelta(seconds=20 + refused.value.retry_after - early), tick=False)
        assert attempt(request) is (early == 0)
    assert waits[0] == waits[1] <= 60


@pytest.mark.parametrize("rate", ["5/m", "10/15m", "3/h", "1/d", "20/s"])
def test_every_configurable_rate_is_understood(rate):
    from numfree.ratelimits import parse_rate

    count, seconds = parse_rate(rate)
    assert count >= 1 and seconds >= 1
