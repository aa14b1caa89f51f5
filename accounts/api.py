"""The extension's account API: tokens (obtain, refresh, logout) and the signed-in user."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import tokens
from accounts.models import User
from accounts.serializers import (
    ErrorResponse,
    MeSerializer,
    MeUpdateRequest,
    RefreshRequest,
    TokenPairResponse,
)
from numfree.api_errors import ApiError
from numfree.ratelimits import enforce_account, enforce_ip
from telephony.numbers import current_number
from twofactor.api import TokenObtainWithCodeRequest, second_factor


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorResponse, description=description)


_RATE_LIMITED = _error("`rate_limited` (with Retry-After), or 503 `service_unavailable` when the limit store is down.")


def _token_response(pair: tokens.TokenPair) -> Response:
    # Tokens must not be kept by caches between the client and us (RFC 6749 5.1).
    return Response(
        TokenPairResponse({"access": pair.access, "refresh": pair.refresh}).data,
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


class _TokenEndpoint(APIView):
    # The refresh token (or the password) is the proof here: a stale access
    # token in an Authorization header must not get in the way.
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def _validated(self, request: Request, serializer_class: type) -> dict[str, Any]:
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class TokenObtainView(_TokenEndpoint):
    @extend_schema(
        operation_id="auth_token_obtain",
        summary="Sign in: email and password for an access and a refresh token",
        description=(
            "Accounts with two-factor sign-in on also send `otp`: the code from the authenticator app or a "
            "recovery code. Without it the right password answers 401 `two_factor_required` (ask for the code "
            "and send all three again); a wrong, expired or reused code answers 401 `two_factor_invalid`."
        ),
        request=TokenObtainWithCodeRequest,
        responses={
            200: TokenPairResponse,
            400: _error("`invalid` or `parse_error`: the body is not {email, password[, otp]}."),
            401: _error(
                "`invalid_credentials`: email or password is wrong (the same answer for an unknown email); "
                "`two_factor_required`: the password is right and the account needs `otp`; "
                "`two_factor_invalid`: `otp` is wrong, expired or was already used."
            ),
            403: _error("`email_unverified` or `account_disabled`."),
            429: _RATE_LIMITED,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        enforce_ip(request, "token_ip")
        data = self._validated(request, TokenObtainWithCodeRequest)
        enforce_account(request, "token_account", data["email"])
        try:
            pair = tokens.obtain_pair(data["email"], data["password"], second_factor(data.get("otp")))
        except tokens.TokenRejected as exc:
            raise ApiError(exc.code, exc.message, status_code=exc.status) from exc
        return _token_response(pair)


class TokenRefreshView(_TokenEndpoint):
    @extend_schema(
        operation_id="auth_token_refresh",
        summary="Exchange a refresh token for a new pair (the old refresh token is used up)",
        description=(
            "Refresh tokens rotate on every use. 409 `refresh_race`: another request refreshed this same "
            "token moments ago; use the tokens that request got and do not sign out. 401 `token_revoked`: the "
            "sign-in is over (a refresh token was used twice, logout, password change); sign in again."
        ),
        request=RefreshRequest,
        responses={
            200: TokenPairResponse,
            400: _error("`invalid` or `parse_error`."),
            401: _error("`token_invalid`, `token_expired` or `token_revoked`."),
            403: _error("`account_disabled`."),
            409: _error("`refresh_race`: wait for the other refresh, never sign out."),
            429: _RATE_LIMITED,
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        enforce_ip(request, "refresh_ip")
        data = self._validated(request, RefreshRequest)
        try:
            pair = tokens.rotate(data["refresh"])
        except tokens.TokenRejected as exc:
            raise ApiError(exc.code, exc.message, status_code=exc.status) from exc
        return _token_response(pair)


class LogoutView(_TokenEndpoint):
    @extend_schema(
        operation_id="auth_logout",
        summary="Sign out: end the sign-in this refresh token belongs to",
        description="Its refresh and access tokens stop working and its signaling sockets close. Repeating it is harmless.",
        request=RefreshRequest,
        responses={
            204: OpenApiResponse(description="Signed out (or already was)."),
            400: _error("`invalid` or `parse_error`."),
            401: _error("`token_invalid` or `token_expired`: not a refresh token of ours."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self._validated(request, RefreshRequest)
        try:
            tokens.sign_out(data["refresh"])
        except tokens.TokenRejected as exc:
            raise ApiError(exc.code, exc.message, status_code=exc.status) from exc
        return Response(status=204)


def _me(user: User) -> dict[str, Any]:
    return MeSerializer(
        {
            "email": user.email,
            "name": user.name,
            "email_verified": user.email_verified,
            "number": current_number(user),
        }
    ).data


_AUTH_ERRORS = {
    401: _error("`not_authenticated`, `token_invalid`, `token_expired` or `token_revoked`."),
    403: _error("`account_disabled`."),
}


class MeView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(operation_id="me_read", summary="The signed-in user", responses={200: MeSerializer, **_AUTH_ERRORS})
    def get(self, request: Request) -> Response:
        return Response(_me(request.user))

    @extend_schema(
        operation_id="me_update",
        summary="Change the signed-in user's name",
        request=MeUpdateRequest,
        responses={200: MeSerializer, 400: _error("`invalid` or `parse_error`."), **_AUTH_ERRORS},
        examples=[OpenApiExample("rename", value={"name": "Alice Example"}, request_only=True)],
    )
    def patch(self, request: Request) -> Response:
        serializer = MeUpdateRequest(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = request.user
        user.name = serializer.validated_data["name"]
        user.save(update_fields=["name"])  # FreeTextCharField masks card numbers on save
        return Response(_me(user))
