"""Pages of two-factor sign-in: the login's code step, turning it on and off, new recovery codes."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from numfree.ratelimits import RateLimited, enforce_ip
from twofactor import enrolment, sessions, verification
from twofactor.forms import CodeForm, DisableForm, FirstCodeForm
from twofactor.qr import qr_data_uri

CODE_REJECTED = "That code is wrong, expired or was already used. Enter the code the app shows now."


class SecondFactorLoginMixin:
    """For a LoginView: with two-factor on, the right password leads to the code step, not to a session."""

    request: HttpRequest

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not verification.is_enabled(user):
            return super().form_valid(form)  # type: ignore[misc]
        sessions.begin_login(self.request, user, backend=user.backend, redirect_to=self.get_success_url())  # type: ignore[attr-defined]
        return redirect("login-two-factor")


def _check(request: HttpRequest, form: Form, user: Any) -> str | None:
    """Check the form's code for the user; None (with the form's error set) when refused."""
    try:
        return verification.check_code(user, form.cleaned_data["code"])
    except verification.TooManyAttempts as exc:
        raise RateLimited(exc.retry_after) from exc
    except verification.CodeRejected:
        form.add_error("code", CODE_REJECTED)
        return None


def _claim(user: Any) -> None:
    authenticator = verification.enabled_authenticator(user)
    if authenticator is not None:
        try:
            verification.claim_attempt(authenticator)
        except verification.TooManyAttempts as exc:
            raise RateLimited(exc.retry_after) from exc


def _tell_recovery_codes_left(request: HttpRequest, user: Any) -> None:
    left = verification.recovery_codes_left(user)
    messages.warning(
        request,
        f"You used a recovery code; {left} left. If your phone is lost, make new codes on the two-factor page.",
    )


@sensitive_post_parameters("code")
@never_cache
def login_code(request: HttpRequest) -> HttpResponse:
    """The login's second step: the password was right, now the code."""
    pending = sessions.pending_login(request)
    if pending is None:
        messages.info(request, "Enter your email and password to log in.")
        return redirect("login")
    form = CodeForm()
    if request.method == "POST":
        enforce_ip(request, "two_factor_ip")
        form = CodeForm(request.POST)
        if form.is_valid() and (kind := _check(request, form, pending.user)):
            sessions.end_login(request)
            auth_login(request, pending.user, backend=pending.backend)
            authenticator = verification.enabled_authenticator(pending.user)
            if authenticator is not None:
                sessions.mark_passed(request, authenticator)
            if kind == "recovery":
                _tell_recovery_codes_left(request, pending.user)
            return redirect(pending.redirect_to)
    return render(request, "twofactor/login_code.html", {"form": form})


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return ""


def _enrol_page(request: HttpRequest, form: Form | None = None, status: int = 200) -> HttpResponse:
    secret = enrolment.pending_secret(request.user)
    uri = enrolment.provisioning_uri(request.user, secret)
    context = {
        "form": form or FirstCodeForm(),
        "secret": secret,
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "qr": qr_data_uri(uri),
        "next": _next_url(request),
    }
    response = render(request, "twofactor/enrol.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _manage_page(
    request: HttpRequest, *, disable_form: Form | None = None, codes_form: Form | None = None, status: int = 200
) -> HttpResponse:
    authenticator = verification.enabled_authenticator(request.user)
    context = {
        "authenticator": authenticator,
        "codes_left": verification.recovery_codes_left(request.user),
        "disable_form": disable_form or DisableForm(request.user),
        "codes_form": codes_form or CodeForm(auto_id="id_codes_%s"),
    }
    return render(request, "twofactor/manage.html", context, status=status)


def _recovery_codes_page(request: HttpRequest, codes: list[str], *, first: bool) -> HttpResponse:
    context = {"codes": codes, "first": first, "next": _next_url(request)}
    response = render(request, "twofactor/recovery_codes.html", context)
    response["Cache-Control"] = "no-store"  # shown once: no copy in any cache
    return response


@sensitive_post_parameters("code")
@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """/account/two-factor/: set it up (GET shows the QR code, POST confirms), or manage it when on."""
    user = request.user
    if not user.email_verified:
        return render(request, "twofactor/unverified.html", status=403)
    if verification.is_enabled(user):
        return _manage_page(request)
    if request.method != "POST":
        return _enrol_page(request)
    enforce_ip(request, "two_factor_ip")
    form = FirstCodeForm(request.POST)
    if not form.is_valid():
        return _enrol_page(request, form, status=400)
    try:
        authenticator, codes = enrolment.confirm(user, form.cleaned_data["code"])
    except verification.TooManyAttempts as exc:
        raise RateLimited(exc.retry_after) from exc
    except verification.CodeRejected:
        form.add_error("code", CODE_REJECTED)
        return _enrol_page(request, form, status=400)
    except enrolment.AlreadyEnabled:
        return redirect("two-factor")
    sessions.mark_passed(request, authenticator)
    return _recovery_codes_page(request, codes, first=True)


@sensitive_post_parameters("password", "code")
@login_required
@require_POST
def disable(request: HttpRequest) -> HttpResponse:
    """Turning it off needs the password and a current code (or a recovery code)."""
    if not verification.is_enabled(request.user):
        return redirect("two-factor")
    enforce_ip(request, "two_factor_ip")
    form = DisableForm(request.user, request.POST)
    valid = form.is_valid()
    if "password" in form.errors:
        # Password guesses from a logged-in session count like wrong codes.
        _claim(request.user)
    if not valid or not _check(request, form, request.user):
        return _manage_page(request, disable_form=form, status=400)
    enrolment.disable(request.user)
    messages.success(request, "Two-factor sign-in is off. Your password alone now signs you in.")
    return redirect(reverse("two-factor"))


@sensitive_post_parameters("code")
@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, for a current code; the old ones stop working."""
    if not verification.is_enabled(request.user):
        return redirect("two-factor")
    enforce_ip(request, "two_factor_ip")
    form = CodeForm(request.POST, auto_id="id_codes_%s")
    if not form.is_valid() or not _check(request, form, request.user):
        return _manage_page(request, codes_form=form, status=400)
    return _recovery_codes_page(request, enrolment.new_recovery_codes(request.user), first=False)
