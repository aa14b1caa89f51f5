"""API authentication: a valid access JWT whose sign-in has not been revoked."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from accounts.tokens import TokenRejected, authenticate_access
from numfree.api_errors import ApiError


class SignInJWTAuthentication(BaseAuthentication):
    """`Authorization: Bearer <access JWT>`; the token's sign-in (claim `sid`) must be active.

    Errors: 401 `token_invalid`, `token_expired` or `token_revoked`; 403
    `account_disabled`. No header at all is left to the permission check
    (401 `not_authenticated` on endpoints that need a user).
    """

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[User, AccessToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise ApiError("token_invalid", "Send the header as 'Authorization: Bearer <token>'.", status_code=401)
        try:
            return authenticate_access(parts[1])
        except TokenRejected as exc:
            raise ApiError(exc.code, exc.message, status_code=exc.status) from exc

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class SignInJWTScheme(OpenApiAuthenticationExtension):
    """Documents the bearer scheme in /api/schema/."""

    target_class = SignInJWTAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer", bearer_format="JWT"
        )
