"""WebSocket handshake guard: only NumFree's own pages and extension may connect.

A browser reports a refused handshake to the page only as close code 1006, never the 403, so
`OriginCheckView` answers the same question over HTTP: the extension asks it after a handshake
that failed before opening, and can then tell the user why it cannot connect.
"""

from __future__ import annotations

from channels.security.websocket import OriginValidator
from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from numfree.api_errors import ApiError


def allowed_origins() -> list[str]:
    return [settings.PUBLIC_ORIGIN, *(f"chrome-extension://{ext_id}" for ext_id in settings.NUMFREE_EXTENSION_IDS)]


def origin_allowed(origin: str | None) -> bool:
    """The one rule: an exact origin (scheme, host and port) from the allowlist."""
    return origin is not None and origin in allowed_origins()


class OriginAllowlist(OriginValidator):
    """Channels' OriginValidator with exact origins (scheme, host and port) from settings.

    A refused handshake is answered with HTTP 403 by the server.
    """

    def __init__(self, application) -> None:  # type: ignore[no-untyped-def]
        super().__init__(application, allowed_origins())

    def valid_origin(self, parsed_origin) -> bool:  # type: ignore[no-untyped-def]
        if parsed_origin is None:
            return False
        return origin_allowed(f"{parsed_origin.scheme}://{parsed_origin.netloc}")


class OriginCheckView(APIView):
    """POST, because Chrome sends an extension's Origin with a POST but not with a GET to a host
    the extension has permission for; the WebSocket handshake always carries it."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="signaling_origin_check",
        summary="Would this browser page's or extension's WebSocket handshake be accepted?",
        description=(
            "Answers for the request's `Origin` header with the rule of `/ws/signaling/`. 403 "
            "`origin_not_allowed`: the signaling socket refuses this origin (an extension whose id is not "
            "in `NUMFREE_EXTENSION_IDS`, or no Origin at all). No body is needed; no token either."
        ),
        request=None,
        responses={
            200: inline_serializer(
                "OriginCheck", {"origin": serializers.CharField(), "allowed": serializers.BooleanField()}
            ),
            403: inline_serializer(
                "OriginRefused", {"code": serializers.CharField(), "message": serializers.CharField()}
            ),
        },
    )
    def post(self, request: Request) -> Response:
        origin = request.headers.get("Origin")
        if not origin_allowed(origin):
            shown = origin if origin and len(origin) <= 200 else "no Origin"
            raise ApiError(
                "origin_not_allowed",
                f"This NumFree server does not accept signaling connections from {shown}. Its operator lists the "
                "extension ids it accepts in NUMFREE_EXTENSION_IDS.",
                status_code=403,
            )
        return Response({"origin": origin, "allowed": True}, headers={"Cache-Control": "no-store"})
