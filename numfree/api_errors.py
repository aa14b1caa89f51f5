"""DRF exception handler: every API error is {code, message}, never {"detail"}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from redis.exceptions import RedisError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

from numfree.errors import ERROR_CODES, ServiceUnavailable, error_body
from numfree.ratelimits import RateLimited

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """Raise from a view to answer {code, message} with a given status."""

    def __init__(self, code: str, message: str | None = None, status_code: int = 400) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message or ERROR_CODES[code]
        super().__init__(detail=self.message, code=code)


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for field, value in detail.items():
            text = _first_message(value)
            return text if field in ("non_field_errors", "detail") else f"{field}: {text}"
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


_BY_CLASS: list[tuple[type[Exception], int, str]] = [
    (exceptions.ParseError, 400, "parse_error"),
    (exceptions.NotAuthenticated, 401, "not_authenticated"),
    (exceptions.AuthenticationFailed, 401, "not_authenticated"),
    (exceptions.PermissionDenied, 403, "permission_denied"),
    (exceptions.NotFound, 404, "not_found"),
    (exceptions.MethodNotAllowed, 405, "method_not_allowed"),
    (exceptions.NotAcceptable, 406, "not_acceptable"),
    (exceptions.UnsupportedMediaType, 415, "unsupported_media_type"),
    (exceptions.Throttled, 429, "rate_limited"),
]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        response_status, body = exc.status_code, error_body(exc.code, exc.message)
    elif isinstance(exc, RateLimited):
        response_status = 429
        body = error_body("rate_limited", f"Too many requests; retry in {exc.retry_after} seconds.")
        headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, ServiceUnavailable | RedisError):
        logger.error("backing service unavailable: %s", type(exc).__name__)
        response_status, body = 503, error_body("service_unavailable")
        headers["Retry-After"] = "30"
    elif isinstance(exc, InvalidToken | TokenError):
        response_status, body = 401, error_body("token_invalid")
    elif isinstance(exc, Http404):
        response_status, body = 404, error_body("not_found")
    elif isinstance(exc, PermissionDenied):
        response_status, body = 403, error_body("permission_denied")
    elif isinstance(exc, exceptions.ValidationError):
        response_status, body = 400, error_body("invalid", _first_message(exc.detail))
    elif isinstance(exc, exceptions.APIException):
        response_status, code = exc.status_code, "server_error"
        for cls, mapped_status, mapped_code in _BY_CLASS:
            if isinstance(exc, cls):
                response_status, code = mapped_status, mapped_code
                break
        body = error_body(code)
        if isinstance(exc, exceptions.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, exceptions.AuthenticationFailed | exceptions.NotAuthenticated):
            headers["WWW-Authenticate"] = 'Bearer realm="api"'
    else:
        return None  # a real bug: Django's 500 handler (JSON for /api/) takes it
    if response_status == status.HTTP_401_UNAUTHORIZED:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return Response(body, status=response_status, headers=headers)
