"""The account's time zone: which names are accepted, setting it, and activating it for each request.

The zone is stored on the account (User.time_zone), never in a cookie or
localStorage. The browser reports its zone once (accounts/static/accounts/
time_zone.js posts Intl's zone name when the account has none); the account
page changes it. Every time on a page is shown in it, with its abbreviation.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

    from accounts.models import User


@cache
def zone_names() -> frozenset[str]:
    """IANA zone names this server knows (tzdata), without the legacy aliases' odd spellings."""
    return frozenset(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")


def choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zone_names())]


def is_valid(name: str) -> bool:
    return name in zone_names()


def set_time_zone(user: User, name: str) -> None:
    """Save a zone chosen on the account page (the caller validated it)."""
    user.time_zone = name
    user.save(update_fields=["time_zone"])


def detect_time_zone(user: User, name: str) -> bool:
    """The browser's zone, saved only while the account has none; True when saved.

    One conditional UPDATE: a detection racing a choice on the account page never overwrites it.
    """
    from accounts.models import User

    if not is_valid(name):
        return False
    saved = User.objects.filter(pk=user.pk, time_zone="").update(time_zone=name) == 1
    if saved:
        user.time_zone = name
    return saved


class TimeZoneMiddleware:
    """Activates the signed-in user's zone for the request (UTC for everyone else)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        if name and is_valid(name):
            timezone.activate(zoneinfo.ZoneInfo(name))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
