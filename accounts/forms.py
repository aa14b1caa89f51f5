"""Web forms of accounts: sign-up, login (rate limited), account details, email change, password reset."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    AuthenticationForm,
    PasswordResetForm,
    SetPasswordMixin,
    UserChangeForm,
)
from django.urls import reverse

from accounts import time_zones
from accounts.display_names import validate_display_name
from accounts.email_identity import parse_email
from accounts.models import User
from accounts.passwords import password_changed
from numfree.mail import queue_email
from numfree.ratelimits import enforce_account, enforce_ip


class TypedEmailField(forms.EmailField):
    """An email as typed: NFKC first, so fullwidth letters or @ (U+FF20) check like their plain forms."""

    def to_python(self, value: Any) -> str:
        return unicodedata.normalize("NFKC", super().to_python(value))


def _email_field(**attrs: Any) -> forms.EmailField:
    return TypedEmailField(
        label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email", **attrs})
    )


def _address(value: str) -> str:
    """The address to store for a new login; raises ValidationError for a refused one."""
    return parse_email(value).address


class SignupForm(SetPasswordMixin, forms.Form):
    email = _email_field(autofocus=True)
    name = forms.CharField(
        label="Name",
        max_length=150,
        required=False,
        help_text="How we greet you. Optional.",
        validators=[validate_display_name],
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    def clean_email(self) -> str:
        return _address(self.cleaned_data["email"])

    def clean(self) -> dict[str, Any]:
        self.validate_passwords()
        cleaned = super().clean()
        candidate = User(email=cleaned.get("email", ""), name=cleaned.get("name", ""))
        self.validate_password_for_user(candidate)
        return cleaned


class RateLimitedLoginMixin:
    """Counts every login attempt per client IP and per typed address before checking it.

    Raises numfree.ratelimits.RateLimited (429 with Retry-After) over the
    limit, ServiceUnavailable (503) when the counters cannot be reached.
    """

    request: Any
    data: Any

    def clean(self) -> dict[str, Any]:
        if self.request is not None:
            enforce_ip(self.request, "login_ip")
            enforce_account(self.request, "login_account", str(self.data.get("username", "")))
        return super().clean()  # type: ignore[misc]


class LoginForm(RateLimitedLoginMixin, AuthenticationForm):
    """Django's login form with the email address as the login (matched case-insensitively)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email and password do not match an account. Passwords are case-sensitive.",
    }

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"] = _email_field(autofocus=True)


class AdminLoginForm(RateLimitedLoginMixin, AdminAuthenticationForm):
    """The admin's login form, under the same limits as the site's."""


class NameForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name"]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zones.choices,
        help_text="Every time NumFree shows you is in this zone, labelled with its abbreviation.",
    )


class EmailChangeForm(forms.Form):
    new_email = _email_field()
    password = forms.CharField(
        label="Your current password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    UNVERIFIED = (
        "Confirm your current address first: follow the link we sent to it (you can have it sent again). "
        "If that address is mistyped, create a new account with the right one."
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["new_email"].label = "New email address"

    def clean(self) -> dict[str, Any]:
        # Whoever signed up an unconfirmed account may not own its address.
        if not self.user.email_verified:
            raise forms.ValidationError(self.UNVERIFIED, code="unverified")
        return super().clean()

    def clean_new_email(self) -> str:
        email = _address(self.cleaned_data["new_email"])
        if User.objects.by_email(email).filter(pk=self.user.pk).exists():
            raise forms.ValidationError("That is already your email address.")
        return email

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form; the account is found by its canonical email key, the email goes
    through the outbox (to the address the account has, never the one typed) and links to PUBLIC_URL."""

    email = _email_field()

    def get_users(self, email: str) -> Iterator[User]:
        for user in User.objects.by_email(email).filter(is_active=True):
            if user.has_usable_password():
                yield user

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        path = reverse("password-reset-confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        queue_email(
            to=to_email,
            subject="Reset your NumFree password",
            template="accounts/email/password_reset.txt",
            context={
                "name": context["user"].mail_greeting_name,
                "link": settings.PUBLIC_URL.rstrip("/") + path,
                "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
            },
        )


# --- Admin ------------------------------------------------------------------


class _AdminEmailMixin:
    """Staff typing an address get the same canonical form and uniqueness as everyone (a form error, not a 500)."""

    cleaned_data: dict[str, Any]
    instance: User

    def clean_email(self) -> str:
        email = _address(self.cleaned_data["email"])
        if User.objects.by_email(email).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("Another account already uses this address.")
        return email


class UserAdminChangeForm(_AdminEmailMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"
        field_classes: dict[str, Any] = {}


class UserAdminCreationForm(_AdminEmailMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email", "name")
        field_classes: dict[str, Any] = {}


class UserAdminPasswordForm(AdminPasswordChangeForm):
    """Setting someone's password in the admin ends their sign-ins like any password change."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        if commit:
            password_changed(user)
        return user
