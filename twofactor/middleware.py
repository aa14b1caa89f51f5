"""Ends a logged-in session that never gave a code for its account's authenticator.

Such a session was opened with the password alone before two-factor was
turned on (in another browser), or before it was turned off and on again.
It is logged out on its next request, like a session after a password change.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from twofactor.sessions import has_passed
from twofactor.verification import enabled_authenticator


class SecondFactorSessionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            authenticator = enabled_authenticator(user)
            if authenticator is not None and not has_passed(request, authenticator):
                logout(request)
                messages.info(request, "Two-factor sign-in is on for your account: please log in again.")
        return self.get_response(request)
