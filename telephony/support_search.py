"""Finding an account by a phone number, the way support staff type it: any usual spelling
("+1 (415) 555-0123", "415.555.0123", "00 44 20 7946 0958") becomes canonical E.164, then the
account holding it as its NumFree number or its forwarding phone."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from django.db.models import Q

from telephony.models import Forwarding, PhoneNumber


def canonical_e164(query: str) -> str:
    """The number support typed, as E.164 ("" when it is not a phone number).

    Read as international first, then as a number of each country NumFree sells in.
    """
    text = query.strip()
    if len(re.sub(r"\D", "", text)) < 7 or re.search(r"[A-Za-z@]", text):
        return ""
    text = re.sub(r"^00", "+", text)
    for region in (None, *settings.NUMBER_COUNTRIES):
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return ""


def holders_of(e164: str) -> Q:
    """Accounts (a filter on users) whose NumFree number or forwarding phone is this number."""
    numbers = PhoneNumber.objects.filter(e164=e164).values("user_id")
    forwarding = Forwarding.objects.filter(phone=e164).values("user_id")
    return Q(pk__in=numbers) | Q(pk__in=forwarding)
