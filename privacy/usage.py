"""First-party usage data: which pages are viewed, from which address and browser family, and when.

Not recorded when the browser sends DNT: 1 or Sec-GPC: 1, for users who
objected, or for anything but a page (API, webhooks, static files, admin
scripts). The page is kept as the URL pattern it matched, never its path (a
reset or verification link's path holds its token); the raw User-Agent and
the query string are never kept.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from numfree.ratelimits import client_ip
from privacy.models import Objection, PageView

NOT_PAGES = ("/api/", "/webhooks/", "/static/", "/ws/", "/admin/jsi18n/", "/healthz", "/favicon.ico", "/robots.txt")

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = [
    ("Bot", re.compile(r"bot|crawl|spider|slurp|curl|wget|python|httpie|headless", re.IGNORECASE)),
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("Safari", re.compile(r"Safari/")),
]


def browser_family(user_agent: str) -> str:
    """The browser's family name only: the full string is too identifying to keep."""
    for family, pattern in _BROWSERS:
        if pattern.search(user_agent):
            return family
    return "Other"


def asks_not_to_be_tracked(request: HttpRequest) -> bool:
    return request.META.get("HTTP_DNT", "").strip() == "1" or request.META.get("HTTP_SEC_GPC", "").strip() == "1"


def has_objected(user: object) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    latest = Objection.objects.filter(user=user, kind=Objection.USAGE_ANALYTICS).order_by("-recorded_at", "-id").first()
    return bool(latest and latest.objected)


def record_objection(user: object, *, objected: bool) -> Objection:
    return Objection.objects.create(user=user, kind=Objection.USAGE_ANALYTICS, objected=objected)


def is_page_view(request: HttpRequest, response: HttpResponse) -> bool:
    if request.method != "GET" or not (200 <= response.status_code < 400):
        return False
    if request.path.startswith(NOT_PAGES):
        return False
    return response.get("Content-Type", "").startswith("text/html")


def record_page_view(request: HttpRequest, response: HttpResponse) -> None:
    if not is_page_view(request, response) or asks_not_to_be_tracked(request):
        return
    user = getattr(request, "user", None)
    if has_objected(user):
        return
    page = page_route(request)
    if page is None:
        return
    PageView.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        ip=client_ip(request) or None,
        browser=browser_family(request.META.get("HTTP_USER_AGENT", "")),
        path=page,
    )


def page_route(request: HttpRequest) -> str | None:
    """The URL pattern the page matched ("/reset/<uidb64>/<token>/"), never the path that filled it in.

    Paths carry secrets (reset and verification tokens) and ids; the pattern
    says which page it was and nothing more. None when no pattern matched.
    """
    match = getattr(request, "resolver_match", None)
    if match is None or match.route is None:
        return None
    return route_of(match.route)


def route_of(pattern: str) -> str:
    return ("/" + pattern.lstrip("^").removesuffix("$"))[:300]


def visits_per_day(days: int = 30, today: date | None = None) -> list[tuple[date, int]]:
    """Page views per day for the last `days` days, oldest first, zero-filled."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    counts = dict(
        PageView.objects.filter(viewed_at__date__gte=first)
        .annotate(day=TruncDate("viewed_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [(first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)]
