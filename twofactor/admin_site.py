"""The admin site: staff need two-factor sign-in on, and a code given in this session.

Its login page runs the site's two-step login (password, then code). A staff
member without two-factor sign-in who logs in is sent to turn it on first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from twofactor.sessions import has_passed
from twofactor.verification import enabled_authenticator
from twofactor.views import SecondFactorLoginMixin


class AdminLoginView(SecondFactorLoginMixin, auth_views.LoginView):
    pass


def passed_second_factor(request: HttpRequest) -> bool:
    authenticator = enabled_authenticator(request.user)
    return authenticator is not None and has_passed(request, authenticator)


class TwoFactorAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and passed_second_factor(request)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        index = reverse("admin:index", current_app=self.name)
        user = request.user
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(index)
        if user.is_authenticated and user.is_active and user.is_staff and enabled_authenticator(user) is None:
            messages.info(request, "The admin needs two-factor sign-in. Turn it on to continue.")
            query = urlencode({REDIRECT_FIELD_NAME: index})
            return HttpResponseRedirect(f"{reverse('two-factor')}?{query}")
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = index
        context.update(extra_context or {})
        request.current_app = self.name
        return AdminLoginView.as_view(
            extra_context=context,
            authentication_form=self.login_form or AdminAuthenticationForm,
            template_name=self.login_template or "admin/login.html",
        )(request)
