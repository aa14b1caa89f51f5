"""Rate limits on the shared cache: sliding-window counters.

Limits are named in settings.RATE_LIMITS. The client IP is REMOTE_ADDR unless
NUMFREE_TRUSTED_PROXY_COUNT proxies are configured, so a forged
X-Forwarded-For never resets anyone's limit. A cache that does not answer
raises ServiceUnavailable (503): limited endpoints never run unlimited.

Each attempt increments (atomically: cache.add then cache.incr) the counter of
the current fixed window, and is refused when that count plus the previous
window's count, weighted by the share of the previous window still inside the
sliding period, is over the limit. django-ratelimit's fixed windows alone let
twice the limit through in a moment across a window edge (measured: 10 login
attempts in 2.6 s against 5/m); it has no sliding window, so this is ours.
"""

from __future__ import annotations

import hashlib
import math
import re
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from redis.exceptions import RedisError

from accounts.email_identity import email_key
from numfree.errors import ServiceUnavailable


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after}s")
        self.retry_after = max(1, retry_after)


def client_ip(request: HttpRequest) -> str:
    """The address of the client, trusting only the configured proxies."""
    proxies = settings.NUMFREE_TRUSTED_PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        # Each trusted proxy appends the address it saw; the client is the
        # entry the outermost trusted proxy appended.
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _hashed(value: str) -> str:
    # Cache keys never hold an email address in the clear.
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """A rate as (count, seconds): 5/m is (5, 60), 10/15m is (10, 900)."""
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"not a rate: {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _SECONDS[unit]


def _count(cache_key: str, period: int) -> int:
    """Add one to a window's counter, atomically, and return the new count."""
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    cache.add(cache_key, 0, timeout=2 * period + 1)  # kept through the next window, which weighs it
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=2 * period + 1)
        return 1


def sliding_usage(key: str, limit: int, period: int, now: float) -> tuple[bool, int]:
    """Count one attempt; returns (over the limit?, seconds until an attempt would be allowed)."""
    window = int(now // period)
    elapsed = now - window * period
    current = _count(f"numfree.rl:{key}:{window}", period)
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    previous = int(cache.get(f"numfree.rl:{key}:{window - 1}") or 0)
    weight = (period - elapsed) / period
    if previous * weight + current <= limit:
        return False, 0
    # When would one more attempt pass? (refused attempts count too, as before)
    if current < limit:  # when the previous window's share has shrunk enough
        wait = period * (1 - (limit - current - 1) / previous) - elapsed
    else:  # in the next window, once this one's share has
        wait = period - elapsed + period * max(0.0, 1 - (limit - 1) / current)
    return True, max(1, math.ceil(wait))


def enforce(request: HttpRequest, limit: str, value: str) -> None:
    """Count one attempt against RATE_LIMITS[limit] for this value; raise when over."""
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return
    count, period = parse_rate(settings.RATE_LIMITS[limit])
    try:
        over, retry_after = sliding_usage(f"{limit}:{_hashed(value)}", count, period, time.time())
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable("rate limit store unavailable") from exc
    if over:
        raise RateLimited(retry_after)


def enforce_ip(request: HttpRequest, limit: str) -> None:
    enforce(request, limit, "ip:" + client_ip(request))


def enforce_account(request: HttpRequest, limit: str, email: str) -> None:
    """Count against the typed address: every spelling of one address shares one budget."""
    if email:
        enforce(request, limit, "account:" + email_key(email))


def enforce_user(request: HttpRequest, limit: str, user_id: int) -> None:
    """Count against a signed-in account itself: changing its address does not reset the count."""
    enforce(request, limit, f"user:{user_id}")
