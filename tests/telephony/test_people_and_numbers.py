"""Numbers formatted for people (phonenumbers) and the address book: pages, exports, the registry."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from privacy.registry import declaration_for
from telephony.models import CallLog, NamedNumber, PhoneNumber, SmsLog, Voicemail
from telephony.people import format_number

pytestmark = pytest.mark.django_db

CALLER = "+14155550100"
PARIS = "+33142685300"


def _text(user, peer: str, sid: str, our: str = "+14155550000") -> SmsLog:  # type: ignore[no-untyped-def]
    return SmsLog.objects.create(
        user=user, direction="in", message_sid=sid, peer_number=peer, our_number=our, status="received"
    )


def test_a_number_in_the_users_country_is_national_and_a_foreign_one_international() -> None:
    assert format_number(CALLER, "US") == "(415) 555-0100"
    assert format_number(PARIS, "US") == "+33 1 42 68 53 00"
    assert format_number(PARIS, "FR") == "01 42 68 53 00"
    assert format_number(CALLER, "") == "+1 415-555-0100"


def test_what_phonenumbers_cannot_read_is_shown_as_it_is() -> None:
    assert format_number("AMAZON", "US") == "AMAZON"
    assert format_number("+1", "US") == "+1"


def test_the_messages_log_shows_formatted_numbers_but_its_exports_keep_e164(alice_client, alice, alice_number) -> None:
    _text(alice, CALLER, "SM" + "1" * 32)
    _text(alice, PARIS, "SM" + "2" * 32)
    page = alice_client.get("/dashboard/messages/", {"view": "log"}).content.decode()
    assert "(415) 555-0100" in page and "+33 1 42 68 53 00" in page
    rows = json.loads(b"".join(alice_client.get("/dashboard/messages/?export=json").streaming_content))
    assert sorted(row["peer_number"] for row in rows) == sorted([CALLER, PARIS])


def test_naming_a_number_shows_the_name_in_calls_texts_voicemail_and_exports(alice_client, alice, alice_number) -> None:
    _text(alice, CALLER, "SM" + "1" * 32)
    CallLog.objects.create(user=alice, kind="phone", direction="in", external_id="CA" + "1" * 32, peer_number=CALLER)
    Voicemail.objects.create(user=alice, recording_sid="RE" + "1" * 32, call_sid="CA" + "1" * 32, peer_number=CALLER)

    response = alice_client.post("/dashboard/people/name/", {"number": "(415) 555-0100", "name": "Dentist"})
    assert response.status_code == 302

    for path in [
        "/dashboard/calls/",
        "/dashboard/messages/",
        "/dashboard/voicemail/",
        f"/dashboard/messages/{CALLER}/",
    ]:
        assert "Dentist" in alice_client.get(path).content.decode(), path
    exported = json.loads(b"".join(alice_client.get("/dashboard/calls/?export=json").streaming_content))
    assert exported[0]["peer_name"] == "Dentist" and exported[0]["peer"] == CALLER
    table = list(
        csv.reader(
            io.StringIO(b"".join(alice_client.get("/dashboard/messages/?export=csv").streaming_content).decode())
        )
    )
    assert table[1][table[0].index("peer_name")] == "Dentist"


def test_naming_a_named_number_again_renames_it(alice_client, alice) -> None:
    alice_client.post("/dashboard/people/name/", {"number": CALLER, "name": "Dentist"})
    alice_client.post("/dashboard/people/name/", {"number": CALLER, "name": "Dr Who"})
    assert list(NamedNumber.objects.filter(user=alice).values_list("name", flat=True)) == ["Dr Who"]


def test_a_name_is_one_line_and_a_number_must_be_a_number(alice_client, alice) -> None:
    for fields in [
        {"number": CALLER, "name": "Dentist\u202etsitneD"},
        {"number": CALLER, "name": "two\nlines"},
        {"number": "call me", "name": "Dentist"},
        {"number": CALLER, "name": ""},
        {"number": CALLER, "name": "x" * 81},
        {},
    ]:
        response = alice_client.post("/dashboard/people/name/", fields)
        assert response.status_code == 200, fields  # the form again, with the error
        assert 'class="errorlist' in response.content.decode(), fields
    assert not NamedNumber.objects.exists()


def test_the_address_book_is_the_owners_alone(client, alice, bob, alice_client) -> None:
    entry = NamedNumber.objects.create(user=alice, number=CALLER, name="Dentist")
    assert "Dentist" in alice_client.get("/dashboard/people/").content.decode()

    other = Client()
    other.force_login(bob)
    assert "Dentist" not in other.get("/dashboard/people/").content.decode()
    assert other.get(f"/dashboard/people/{entry.pk}/remove/").status_code == 404
    assert other.post(f"/dashboard/people/{entry.pk}/remove/").status_code == 404
    other.post("/dashboard/people/name/", {"number": CALLER, "name": "Bob's name"})  # bob's own book
    assert NamedNumber.objects.get(user=alice).name == "Dentist"
    assert "Bob's name" not in alice_client.get("/dashboard/people/").content.decode()

    anonymous = Client()
    for path in ["/dashboard/people/", f"/dashboard/people/{entry.pk}/remove/"]:
        assert anonymous.get(path).status_code == 302
    assert anonymous.post("/dashboard/people/name/", {"number": CALLER, "name": "x"}).status_code == 302
    assert NamedNumber.objects.count() == 2  # alice's and bob's, none from the anonymous post


def test_removing_a_name_asks_first_and_says_what_follows(alice_client, alice) -> None:
    entry = NamedNumber.objects.create(user=alice, number=CALLER, name="Dentist")
    page = alice_client.get(f"/dashboard/people/{entry.pk}/remove/").content.decode()
    assert "shown as a number again" in page and "stay as they are" in page
    assert NamedNumber.objects.filter(pk=entry.pk).exists()
    alice_client.post(f"/dashboard/people/{entry.pk}/remove/")
    assert not NamedNumber.objects.filter(pk=entry.pk).exists()


def test_the_address_book_is_declared_exported_and_erased(alice, alice_number) -> None:
    from telephony.personal_data import erase_telephony, export_telephony

    NamedNumber.objects.create(user=alice, number=CALLER, name="Dentist")
    _text(alice, CALLER, "SM" + "1" * 32, our=alice_number.e164)
    assert declaration_for(NamedNumber).personal
    part = export_telephony(alice)
    assert part.data["address_book"][0]["name"] == "Dentist"
    assert part.data["texts"][0]["peer_name"] == "Dentist"
    erase_telephony(alice)
    assert not NamedNumber.objects.exists()


def test_an_own_number_is_shown_in_its_national_format(alice_client, alice_number) -> None:
    page = alice_client.get("/dashboard/number/").content.decode()
    assert format_number(alice_number.e164, "US") in page
    assert PhoneNumber.objects.count() == 1
