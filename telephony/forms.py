"""Forms of the numbers dashboard pages."""

from __future__ import annotations

from django import forms
from django.conf import settings

from accounts.display_names import validate_display_name
from telephony.models import normalize_number
from telephony.sending import MAX_BODY


class PhoneNumberField(forms.CharField):
    def clean(self, value: str) -> str:
        value = super().clean(value)
        if not value:
            return ""
        e164 = normalize_number(value)
        if not e164:
            raise forms.ValidationError("Enter a phone number with its country code, like +14155550123.")
        return e164


class NumberSearchForm(forms.Form):
    country = forms.ChoiceField(choices=[])
    area_code = forms.RegexField(regex=r"^\d{3}$", max_length=3, error_messages={"invalid": "Three digits, like 415."})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["country"].choices = [(code, code) for code in settings.NUMBER_COUNTRIES]


class BuyNumberForm(forms.Form):
    e164 = forms.RegexField(regex=r"^\+\d{8,15}$")
    country = forms.CharField(max_length=2)


class ForwardingEmailForm(forms.Form):
    email = forms.EmailField(label="Forward texts to", max_length=254)


class ForwardingPhoneForm(forms.Form):
    phone = PhoneNumberField(label="Ring this phone", max_length=32)


class PhoneCodeForm(forms.Form):
    code = forms.RegexField(regex=r"^\d{6}$", label="Code from the text", error_messages={"invalid": "Six digits."})


class PreferencesForm(forms.Form):
    do_not_disturb = forms.BooleanField(required=False, label="Do not disturb (calls go straight to voicemail)")
    greeting = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Voicemail greeting (read aloud)",
    )


class BlockForm(forms.Form):
    number = PhoneNumberField(label="Block this number", max_length=32)


class SendSmsForm(forms.Form):
    to = PhoneNumberField(label="To", max_length=32, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    body = forms.CharField(label="Text", max_length=MAX_BODY, widget=forms.Textarea(attrs={"rows": 3}))


class NameNumberForm(forms.Form):
    number = PhoneNumberField(label="Number", max_length=32, widget=forms.TextInput(attrs={"inputmode": "tel"}))
    name = forms.CharField(label="Name", max_length=80, validators=[validate_display_name])


class SimulateForm(forms.Form):
    EVENTS = [("sms", "Text message"), ("call-answered", "Call, answered"), ("call-voicemail", "Call, voicemail left")]
    event = forms.ChoiceField(choices=EVENTS)
    sender = PhoneNumberField(max_length=32, initial="+14155550100", label="From")
    body = forms.CharField(required=False, max_length=1600, initial="Hello from the simulator")
