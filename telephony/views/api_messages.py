"""/api/messages/: the text log (metadata only, newest first, cursor-paginated) and sending a text."""

from __future__ import annotations

from django.utils.http import urlencode
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.serializers import ErrorResponse
from numfree.api_errors import ApiError
from numfree.ratelimits import enforce_account
from telephony import log_params, logs, sending
from telephony.models import SmsLog


class MessageSerializer(serializers.ModelSerializer):
    peer = serializers.CharField(source="peer_number", read_only=True, help_text="The other party, E.164.")

    class Meta:
        model = SmsLog
        fields = [
            "id",
            "direction",
            "peer",
            "our_number",
            "created_at",
            "status",
            "segments",
            "media_count",
            "blocked",
            "forwarded_at",
            "dropped",
        ]


class SendTextRequest(serializers.Serializer):
    to = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        help_text="E.164, like +14155550123 (or 10 North American digits).",
    )
    body = serializers.CharField(
        required=False,
        default="",
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"1 to {sending.MAX_BODY} characters; sent to Twilio and stored nowhere.",
    )


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponse, description=description)


@extend_schema(
    methods=["GET"],
    operation_id="messages_list",
    summary="Texts to and from your number, newest first (metadata only, never the body)",
    parameters=[OpenApiParameter("cursor", str, description="The `next` URL carries it; do not build it yourself.")],
    responses={
        200: inline_serializer(
            "MessagePage", {"results": MessageSerializer(many=True), "next": serializers.URLField(allow_null=True)}
        ),
        400: _error("`invalid`: `cursor` is not one from a `next` URL."),
        401: _error("`not_authenticated`, `token_invalid`, `token_expired` or `token_revoked`."),
    },
)
@extend_schema(
    methods=["POST"],
    operation_id="messages_send",
    summary="Send a text from your NumFree number; only its metadata is logged",
    request=SendTextRequest,
    responses={
        201: MessageSerializer,
        400: _error("`sms_to_invalid`, `sms_body_empty`, `sms_body_too_long`, `sms_recipient_opted_out` or `invalid`."),
        401: _error("`not_authenticated`, `token_invalid`, `token_expired` or `token_revoked`."),
        403: _error("`no_number` (get a number first) or `plan_required`."),
        429: _error("`rate_limited` (NUMFREE_RATE_SEND_SMS per account; wait Retry-After seconds)."),
        503: _error("`telephony_unavailable` (Twilio did not answer) or `service_unavailable`."),
    },
)
@api_view(["GET", "POST"])
def messages(request: Request) -> Response:
    if request.method == "POST":
        return _send(request)
    rows = SmsLog.objects.filter(user=request.user).order_by("-created_at", "-id")
    try:
        after = log_params.read_cursor(request.GET, "cursor")
    except log_params.InvalidLogQuery as exc:
        raise ApiError("invalid", str(exc)) from None
    items, next_cursor = logs.page(logs.MESSAGES, rows, after)
    next_url = request.build_absolute_uri("?" + urlencode({"cursor": next_cursor})) if next_cursor else None
    return Response({"results": MessageSerializer(items, many=True).data, "next": next_url})


def _send(request: Request) -> Response:
    fields = SendTextRequest(data=request.data)
    fields.is_valid(raise_exception=True)
    enforce_account(request, "send_sms_account", request.user.email)
    try:
        log = sending.send_text(request.user, fields.validated_data["to"], fields.validated_data["body"])
    except sending.SendError as exc:
        raise ApiError(exc.code, exc.message, exc.status) from None
    return Response(MessageSerializer(log).data, status=201)
