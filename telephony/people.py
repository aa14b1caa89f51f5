"""Who a number is, for people: the user's address book and numbers formatted with phonenumbers.

Pages show a number in national format when it is in the same country as the
user's NumFree number, in international format otherwise; the API and the
CSV/JSON exports keep E.164. A named number shows its name first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import phonenumbers
from django.contrib.auth import get_user_model
from django.db import transaction

from telephony.models import NamedNumber, PhoneNumber, normalize_number

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

MAX_NAMED_NUMBERS = 1000


class AddressBookError(Exception):
    """Why a name was not saved, in a sentence for people."""


def format_number(e164: str, home_country: str = "") -> str:
    """The number as people write it: national in the home country, international elsewhere.

    Anything phonenumbers cannot read (a short code, garbage) is shown as it is.
    """
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_possible_number(parsed):
        return e164
    same_country = bool(home_country) and phonenumbers.region_code_for_number(parsed) == home_country.upper()
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_country else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)


def home_country(user: User) -> str:
    """The ISO country of the user's NumFree number, or "" without one."""
    return PhoneNumber.objects.filter(user=user).order_by("bought_at").values_list("country", flat=True).first() or ""


@dataclass(frozen=True)
class People:
    """What one request needs to show numbers: the home country and the user's names by number."""

    country: str
    names: dict[str, str]

    @classmethod
    def of(cls, user: Any) -> People:
        if not getattr(user, "is_authenticated", False):
            return cls("", {})
        names = dict(
            NamedNumber.objects.filter(user=user).order_by("number").values_list("number", "name")[:MAX_NAMED_NUMBERS]
        )
        return cls(home_country(user), names)

    @classmethod
    def about(cls, user: Any, *numbers: str) -> People:
        """Only what showing these numbers needs (an email names one or two): two small queries."""
        rows = NamedNumber.objects.filter(user=user, number__in=numbers).values_list("number", "name")
        # One line each, whatever wrote the row: a subject header cannot take a line break.
        return cls(home_country(user), {number: " ".join(name.split()) for number, name in rows})

    @classmethod
    def for_request(cls, request: HttpRequest) -> People:
        """Loaded once per request (templates ask for every row)."""
        people = getattr(request, "_telephony_people", None)
        if people is None:
            people = cls.of(request.user)
            request._telephony_people = people  # type: ignore[attr-defined]
        return people

    def number(self, e164: str) -> str:
        return format_number(e164, self.country)

    def name(self, e164: str) -> str:
        return self.names.get(e164, "")

    def who(self, e164: str) -> str:
        """The name the user gave the number, else the number formatted (a subject line, a sentence)."""
        return self.name(e164) or self.number(e164)

    def who_with_number(self, e164: str) -> str:
        """Named: "Mom at (415) 555-0100"; else just the number formatted (a sentence in a body)."""
        name = self.name(e164)
        return f"{name} at {self.number(e164)}" if name else self.number(e164)

    def number_to_edit(self, e164: str) -> str:
        """The number formatted for a form field that may be sent back: national where the form
        reads that back as the same number (normalize_number knows North America's), else international."""
        shown = self.number(e164)
        return shown if normalize_number(shown) == e164 else format_number(e164)


def name_number(user: User, number: str, name: str) -> NamedNumber:
    """Give a number a name, or rename it; raises AddressBookError."""
    e164 = normalize_number(number)
    if not e164:
        raise AddressBookError("Enter a phone number with its country code, like +14155550123.")
    name = " ".join(name.split())
    if not name:
        raise AddressBookError("Write a name.")
    with transaction.atomic():
        # The account's row is locked first, so saves for one user take turns: the count below
        # is still true when the row is written, and racing saves cannot pass the limit together.
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        if NamedNumber.objects.filter(user=user, number=e164).update(name=name):
            return NamedNumber.objects.get(user=user, number=e164)
        if NamedNumber.objects.filter(user=user).count() >= MAX_NAMED_NUMBERS:
            plural = "" if MAX_NAMED_NUMBERS == 1 else "s"
            raise AddressBookError(f"Your address book is full ({MAX_NAMED_NUMBERS} name{plural}); remove one first.")
        return NamedNumber.objects.create(user=user, number=e164, name=name)
