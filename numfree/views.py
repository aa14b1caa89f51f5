"""Site-wide pages: landing, health check and the error pages."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from numfree.middleware import error_response

logger = logging.getLogger(__name__)


def landing(request: HttpRequest) -> HttpResponse:
    # With a TURN relay configured, audio can pass through it (still encrypted), so the page
    # must not promise that it always goes directly between callers.
    return render(request, "numfree/landing.html", {"audio_may_be_relayed": bool(settings.SIGNALING_TURN_URLS)})


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database (and Redis, when configured) answer."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        logger.error("healthz: database unavailable: %s", type(exc).__name__)
        checks["database"] = "unavailable"
    if settings.REDIS_URL:
        try:
            cache.set("healthz", "ok", 5)
            checks["redis"] = "ok" if cache.get("healthz") == "ok" else "unavailable"
        except Exception as exc:
            logger.error("healthz: redis unavailable: %s", type(exc).__name__)
            checks["redis"] = "unavailable"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return error_response(
        request,
        403,
        "permission_denied",
        "This form has expired or was sent from another site. Go back, reload the page and try again.",
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 404, "not_found")


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(request, 500, "server_error")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 403, "permission_denied")


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(request, 400, "invalid", "The request could not be understood.")
