"""Turns rate limits and unreachable backing services into clear answers.

429 with Retry-After and 503 instead of a 500: as JSON {code, message} under
/api/ and /webhooks/, as a readable page elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from redis.exceptions import RedisError

from numfree.errors import ServiceUnavailable, error_body
from numfree.ratelimits import RateLimited

logger = logging.getLogger(__name__)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(("/api/", "/webhooks/")) or "application/json" in request.META.get("HTTP_ACCEPT", "")


def error_response(request: HttpRequest, status: int, code: str, message: str | None = None) -> HttpResponse:
    body = error_body(code, message)
    if wants_json(request):
        return JsonResponse(body, status=status)
    html = render_to_string("numfree/error.html", {"status": status, **body}, request=request)
    return HttpResponse(html, status=status)


def rate_limited_response(request: HttpRequest, retry_after: int) -> HttpResponse:
    minutes = (retry_after + 59) // 60
    message = (
        f"Too many attempts. Try again in {retry_after} seconds."
        if retry_after < 120
        else f"Too many attempts. Try again in about {minutes} minutes."
    )
    response = error_response(request, 429, "rate_limited", message)
    response["Retry-After"] = str(retry_after)
    return response


class ServiceErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            return rate_limited_response(request, exception.retry_after)
        if isinstance(exception, ServiceUnavailable | RedisError):
            logger.error("backing service unavailable: %s", type(exception).__name__)
            response = error_response(request, 503, "service_unavailable")
            response["Retry-After"] = "30"
            return response
        return None
