"""API authentication: a valid access JWT whose sign-in has not been revoked."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token

from accounts.models import SignIn, User
from numfree.api_errors import ApiError


class SignInJWTAuthentication(JWTAuthentication):
    """simplejwt's bearer authentication plus the sign-in (refresh family) check."""

    def authenticate(self, request: Request) -> tuple[User, Token] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        sign_in_id = token.get("sid")
        if not sign_in_id or not SignIn.objects.active().filter(pk=sign_in_id, user=user).exists():
            raise ApiError("token_revoked", status_code=401)
        return user, token

    def get_user(self, validated_token: Any) -> User:
        try:
            user = super().get_user(validated_token)
        except Exception as exc:  # simplejwt raises AuthenticationFailed for unknown/inactive users
            raise ApiError("token_revoked", status_code=401) from exc
        return user

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
