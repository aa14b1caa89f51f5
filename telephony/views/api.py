"""GET /api/calls/: the call history (app and phone calls), newest first, cursor-paginated."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import urlencode
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from accounts.serializers import ErrorResponse
from numfree.api_errors import ApiError
from telephony import log_params, logs
from telephony.models import CallLog


class CallSerializer(serializers.ModelSerializer):
    peer = serializers.CharField(read_only=True)

    class Meta:
        model = CallLog
        fields = [
            "id",
            "kind",
            "direction",
            "peer",
            "started_at",
            "answered_at",
            "ended_at",
            "duration_s",
            "end_reason",
            "missed",
        ]


@extend_schema(
    parameters=[OpenApiParameter("cursor", str, description="The `next` URL carries it; do not build it yourself.")],
    responses={
        200: inline_serializer(
            "CallPage", {"results": CallSerializer(many=True), "next": serializers.URLField(allow_null=True)}
        ),
        400: OpenApiResponse(ErrorResponse, description="`invalid`: `cursor` is not one from a `next` URL."),
        401: OpenApiResponse(
            ErrorResponse, description="`not_authenticated`, `token_invalid`, `token_expired` or `token_revoked`."
        ),
    },
)
@api_view(["GET"])
def calls(request: HttpRequest) -> Response:
    rows = CallLog.objects.filter(user=request.user).select_related("peer_user").order_by("-started_at", "-id")
    try:
        after = log_params.read_cursor(request.GET, "cursor")
    except log_params.InvalidLogQuery as exc:
        raise ApiError("invalid", str(exc)) from None
    items, next_cursor = logs.page(logs.CALLS, rows, after)
    next_url = request.build_absolute_uri("?" + urlencode({"cursor": next_cursor})) if next_cursor else None
    return Response({"results": CallSerializer(items, many=True).data, "next": next_url})
