"""The forwarding page shows the phone calls ring as people write it, also in the field that changes it."""

from __future__ import annotations

import re

import pytest

from telephony.forms import ForwardingPhoneForm
from telephony.models import Forwarding
from telephony.people import People

pytestmark = pytest.mark.django_db


def _page(client) -> str:  # type: ignore[no-untyped-def]
    return client.get("/dashboard/forwarding/").content.decode()


def _phone_field(page: str) -> str:
    return re.search(r'<input[^>]*name="phone"[^>]*>', page).group(0)


def test_the_confirmed_phone_is_formatted_in_the_text_and_the_field(alice_client, alice, alice_number) -> None:
    Forwarding.objects.create(user=alice, phone="+14155550199", phone_verified=True)
    page = _page(alice_client)
    assert "Calls ring <strong>(415) 555-0199</strong>" in page
    assert 'value="(415) 555-0199"' in _phone_field(page)
    assert "+14155550199" not in page


@pytest.mark.parametrize("phone", ["+14155550199", "+442079460000"])
def test_the_formatted_field_is_read_back_as_the_same_phone(alice_client, alice, alice_number, phone) -> None:
    Forwarding.objects.create(user=alice, phone=phone, phone_verified=True)
    shown = re.search(r'value="([^"]+)"', _phone_field(_page(alice_client))).group(1)
    assert shown != phone
    form = ForwardingPhoneForm({"phone": shown})
    assert form.is_valid() and form.cleaned_data["phone"] == phone


def test_a_phone_in_another_country_is_international(alice_client, alice, alice_number) -> None:
    Forwarding.objects.create(user=alice, phone="+442079460000", phone_verified=True)
    page = _page(alice_client)
    assert 'value="+44 20 7946 0000"' in _phone_field(page) and "+442079460000" not in page


def test_a_field_value_is_national_only_where_the_form_reads_it_back() -> None:
    # A British NumFree number: "020 7946 0000" would not be read back as +442079460000.
    people = People("GB", {})
    assert people.number("+442079460000") == "020 7946 0000"
    assert people.number_to_edit("+442079460000") == "+44 20 7946 0000"
    assert People("US", {}).number_to_edit("+14155550199") == "(415) 555-0199"


def test_without_a_phone_the_field_is_empty(alice_client, alice, alice_number) -> None:
    assert "value=" not in _phone_field(_page(alice_client))
