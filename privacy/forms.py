"""Privacy center forms."""

from __future__ import annotations

from django import forms

from numfree.card_numbers import mask_card_numbers
from privacy.models import DataSubjectRequest


class NameForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, label="Your name")

    def clean_name(self) -> str:
        return mask_card_numbers(self.cleaned_data["name"].strip())


class SupportRequestForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[
            (DataSubjectRequest.CORRECTION, "Correct something else"),
            (DataSubjectRequest.OBJECTION, "Object to processing"),
        ],
        label="What would you like",
    )
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=4000, label="Tell us what and why")

    def clean_details(self) -> str:
        return mask_card_numbers(self.cleaned_data["details"].strip())


class DeleteAccountForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}), label="Password")

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class ObjectionForm(forms.Form):
    analytics = forms.ChoiceField(choices=[("off", "off"), ("on", "on")])
