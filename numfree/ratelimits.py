"""Rate limits on the shared cache, through django-ratelimit's counters.

Limits are named in settings.RATE_LIMITS. The client IP is REMOTE_ADDR unless
NUMFREE_TRUSTED_PROXY_COUNT proxies are configured, so a forged
X-Forwarded-For never resets anyone's limit. A cache that does not answer
raises ServiceUnavailable (503): limited endpoints never run unlimited.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
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


def enforce(request: HttpRequest, limit: str, value: str) -> None:
    """Count one attempt against RATE_LIMITS[limit] for this value; raise when over."""
    rate = settings.RATE_LIMITS[limit]
    try:
        usage = get_usage(
            request, group=f"numfree.{limit}", key=lambda _group, _request: _hashed(value), rate=rate, increment=True
        )
    except (RedisError, OSError) as exc:
        raise ServiceUnavailable("rate limit store unavailable") from exc
    if usage is None:  # RATELIMIT_ENABLE = False
        return
    if usage["time_left"] == -1 and usage["limit"] == 0:
        raise ServiceUnavailable("rate limit store unavailable")
    if usage["should_limit"]:
        raise RateLimited(usage["time_left"])


def enforce_ip(request: HttpRequest, limit: str) -> None:
    enforce(request, limit, "ip:" + client_ip(request))


def enforce_account(request: HttpRequest, limit: str, email: str) -> None:
    """Count against the typed address: every spelling of one address shares one budget."""
    if email:
        enforce(request, limit, "account:" + email_key(email))


def enforce_user(request: HttpRequest, limit: str, user_id: int) -> None:
    """Count against a signed-in account itself: changing its address does not reset the count."""
    enforce(request, limit, f"user:{user_id}")
