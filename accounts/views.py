"""Web pages of accounts: sign-up, email links, login/logout, account, passwords, dashboard."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.forms import Form
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import time_zones, verification
from accounts.forms import EmailChangeForm, LoginForm, NameForm, OutboxPasswordResetForm, SignupForm, TimeZoneForm
from accounts.home import home_for
from accounts.models import User
from accounts.passwords import password_changed, reset_token_generator
from accounts.registration import sign_up
from numfree.middleware import error_response
from numfree.ratelimits import enforce_account, enforce_ip, enforce_user
from twofactor.views import SecondFactorLoginMixin

# --- Sign-up and email links -------------------------------------------------


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm()
    if request.method == "POST":
        enforce_ip(request, "signup_ip")
        form = SignupForm(request.POST)
        if form.is_valid():
            sign_up(form.cleaned_data["email"], form.cleaned_data["name"], form.cleaned_data["password1"])
            return redirect("signup-sent")
    return render(request, "accounts/signup.html", {"form": form})


def signup_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_sent.html")


_LINK_ERRORS = {
    verification.LinkError.EXPIRED: (
        "This link has expired",
        "Links in our emails work for a limited time. Log in and send yourself a new one from your account page.",
    ),
    verification.LinkError.INVALID: (
        "This link is not valid",
        "It may have been cut off by your email program. Copy the whole link from the email, "
        "or log in and send yourself a new one.",
    ),
    verification.LinkError.STALE: (
        "This link is for an address the account no longer uses",
        "Use the most recent email we sent you, or log in and send yourself a new one.",
    ),
    verification.LinkError.TAKEN: (
        "That address now belongs to another account",
        "Your email address was not changed. You can choose another address on your account page.",
    ),
}


def _link_failed(request: HttpRequest, error: verification.LinkError) -> HttpResponse:
    title, message = _LINK_ERRORS[error.kind]
    context = {"title": title, "message": message, "ok": False}
    return render(request, "accounts/link_result.html", context, status=400)


def _link_done(request: HttpRequest, user: User, title: str) -> HttpResponse:
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.success(request, title)
        return redirect("dashboard")
    return render(request, "accounts/link_result.html", {"title": title, "ok": True})


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = verification.verify_email(token)
    except verification.LinkError as error:
        return _link_failed(request, error)
    return _link_done(request, user, "Your email address is confirmed.")


def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        user = verification.confirm_email_change(token)
    except verification.LinkError as error:
        return _link_failed(request, error)
    return _link_done(request, user, "Your new email address is confirmed and is now your login.")


# --- Login and logout ----------------------------------------------------------


class LoginView(SecondFactorLoginMixin, auth_views.LoginView):
    """With two-factor sign-in on, the right password leads to /login/two-factor/ (twofactor/views.py)."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


# --- Account page ---------------------------------------------------------------


def _account_page(
    request: HttpRequest,
    *,
    name_form: Form | None = None,
    email_form: Form | None = None,
    time_zone_form: Form | None = None,
) -> HttpResponse:
    user = request.user
    context = {
        "name_form": name_form or NameForm(instance=user),
        "email_form": email_form or EmailChangeForm(user),
        "time_zone_form": time_zone_form or TimeZoneForm(initial={"time_zone": user.time_zone or "UTC"}),
    }
    return render(request, "accounts/account.html", context)


@login_required
def account(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NameForm(request.POST, instance=request.user)
        if not form.is_valid():
            return _account_page(request, name_form=form)
        form.save()
        messages.success(request, "Your name is saved.")
        return redirect("account")
    return _account_page(request)


@login_required
@require_POST
def time_zone(request: HttpRequest) -> HttpResponse:
    form = TimeZoneForm(request.POST)
    if not form.is_valid():
        return _account_page(request, time_zone_form=form)
    time_zones.set_time_zone(request.user, form.cleaned_data["time_zone"])
    messages.success(request, f"Times are now shown in {form.cleaned_data['time_zone'].replace('_', ' ')}.")
    return redirect("account")


@login_required
@require_POST
def detect_time_zone(request: HttpRequest) -> HttpResponse:
    """The browser's zone (time_zone.js), kept only while the account has none."""
    name = request.POST.get("time_zone", "")
    if not time_zones.is_valid(name):
        return error_response(request, 400, "invalid", "time_zone: not a time zone name this server knows.")
    saved = time_zones.detect_time_zone(request.user, name)
    return JsonResponse({"time_zone": request.user.time_zone, "saved": saved})


@sensitive_post_parameters("password")
@login_required
@require_POST
def change_email(request: HttpRequest) -> HttpResponse:
    # Every request counts (each one mails an address that may be a stranger's).
    enforce_ip(request, "email_change_ip")
    enforce_user(request, "email_change_account", request.user.pk)
    form = EmailChangeForm(request.user, request.POST)
    if not form.is_valid():
        return _account_page(request, email_form=form)
    verification.request_email_change(request.user, form.cleaned_data["new_email"])
    messages.success(
        request,
        "We sent a link to your new address. Your login stays the same until you follow it.",
    )
    return redirect("account")


@login_required
@require_POST
def cancel_email_change(request: HttpRequest) -> HttpResponse:
    verification.cancel_email_change(request.user)
    messages.success(request, "The email change is cancelled.")
    return redirect("account")


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    enforce_ip(request, "resend_verification_ip")
    enforce_user(request, "resend_verification_account", request.user.pk)
    if verification.resend(request.user):
        messages.success(request, "We sent the link again. It can take a minute to arrive.")
    else:
        messages.info(request, "Your email address is already confirmed.")
    return redirect("account")


# --- Passwords ------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("account")

    @transaction.atomic
    def form_valid(self, form: Form) -> HttpResponse:
        response = super().form_valid(form)  # saves and keeps this session (update_session_auth_hash)
        password_changed(form.user)
        messages.success(self.request, "Your password is changed. You were logged out everywhere else.")
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("password-reset-sent")
    token_generator = reset_token_generator

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        enforce_ip(request, "password_reset_ip")
        enforce_account(request, "password_reset_account", str(request.POST.get("email", "")))
        return super().post(request, *args, **kwargs)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")
    token_generator = reset_token_generator

    @transaction.atomic
    def form_valid(self, form: Form) -> HttpResponse:
        response = super().form_valid(form)
        password_changed(form.user, by_reset=True)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- Dashboard ------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    home = home_for(request.user)
    return render(request, "accounts/dashboard.html", {"home": home, "unheard_voicemail": home.unheard_voicemail})
