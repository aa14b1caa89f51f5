"""Forms of two-factor sign-in: a code, and the password with a code to turn it off."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import User


def _code_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=64,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )


class CodeForm(forms.Form):
    """A code from the authenticator app or a recovery code."""

    code = _code_field(
        "Code",
        "The 6-digit code your authenticator app shows now, or one of your recovery codes.",
    )


class FirstCodeForm(forms.Form):
    """The first code from the app, which proves the secret was copied."""

    code = _code_field("Code from the app", "The 6-digit code the app shows for NumFree.")
    code.widget.attrs["inputmode"] = "numeric"
    code.widget.attrs["autofocus"] = False


class DisableForm(CodeForm):
    password = forms.CharField(
        label="Your password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["password", "code"]

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["code"].widget.attrs.pop("autofocus", None)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your current password.")
        return password
