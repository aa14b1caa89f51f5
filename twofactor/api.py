"""The API side of two-factor sign-in: `otp` in `POST /api/auth/token/`.

An account with two-factor on gets 401 `two_factor_required` for the right
password without `otp`, and 401 `two_factor_invalid` for a wrong, expired or
reused code; accounts without it see no change.
"""

from __future__ import annotations

from collections.abc import Callable

from rest_framework import serializers

from accounts.models import User
from accounts.serializers import TokenObtainRequest
from accounts.tokens import TokenRejected
from numfree.ratelimits import RateLimited
from twofactor import verification


class TokenObtainWithCodeRequest(TokenObtainRequest):
    otp = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text=(
            "Only for accounts with two-factor sign-in on: the 6-digit code from the authenticator app, "
            "or a recovery code. Without it such an account gets 401 `two_factor_required`."
        ),
    )


def second_factor(otp: str | None) -> Callable[[User], None]:
    """The check `accounts.tokens.obtain_pair` runs once the password is right."""

    def check(user: User) -> None:
        if not verification.is_enabled(user):
            return
        if not otp:
            raise TokenRejected("two_factor_required")
        try:
            verification.check_code(user, otp)
        except verification.TooManyAttempts as exc:
            raise RateLimited(exc.retry_after) from exc
        except verification.CodeRejected as exc:
            raise TokenRejected("two_factor_invalid") from exc

    return check
