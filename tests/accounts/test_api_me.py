"""GET and PATCH /api/me/: the signed-in user sees and renames only themselves."""

from __future__ import annotations

import json

import pytest

from telephony.models import PhoneNumber
from tests.accounts.api_session import ME_URL, bearer, me, obtain

pytestmark = pytest.mark.django_db


def patch_me(client, access: str, body) -> object:
    return client.patch(ME_URL, data=json.dumps(body), content_type="application/json", **bearer(access))


def test_me_shows_the_owner_their_account(client, alice):
    response = me(client, obtain(client, alice.email)["access"])
    assert response.status_code == 200
    assert response.json() == {"email": "alice@example.com", "name": "Alice", "email_verified": True, "number": None}


def test_me_shows_the_owners_number_in_e164(client, alice, bob):
    PhoneNumber.objects.create(user=alice, e164="+15551230001", twilio_sid="PN" + "a" * 32, country="US")

    assert me(client, obtain(client, alice.email)["access"]).json()["number"] == "+15551230001"
    assert me(client, obtain(client, bob.email)["access"]).json()["number"] is None


def test_another_user_sees_only_themselves(client, alice, bob):
    response = me(client, obtain(client, bob.email)["access"])
    assert response.json()["email"] == "bob@example.com"


def test_anonymous_gets_not_authenticated(client, alice):
    response = client.get(ME_URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert client.patch(ME_URL, data="{}", content_type="application/json").status_code == 401


def test_a_web_session_is_not_an_api_sign_in(alice_client):
    assert alice_client.get(ME_URL).status_code == 401


def test_the_owner_can_change_their_name(client, alice):
    access = obtain(client, alice.email)["access"]

    response = patch_me(client, access, {"name": "  Alice Liddell "})

    assert response.status_code == 200
    assert response.json()["name"] == "Alice Liddell"
    alice.refresh_from_db()
    assert alice.name == "Alice Liddell"
    assert me(client, access).json()["name"] == "Alice Liddell"


def test_renaming_does_not_touch_anyone_else(client, alice, bob):
    patch_me(client, obtain(client, alice.email)["access"], {"name": "A"})
    bob.refresh_from_db()
    assert bob.name == "Bob"


def test_a_card_number_typed_as_a_name_is_masked_before_it_is_stored(client, alice):
    response = patch_me(client, obtain(client, alice.email)["access"], {"name": "Alice 4242 4242 4242 4242"})
    assert response.json()["name"] == "Alice •••• 4242"
    alice.refresh_from_db()
    assert "4242 4242" not in alice.name


def test_a_name_longer_than_150_characters_is_refused(client, alice):
    response = patch_me(client, obtain(client, alice.email)["access"], {"name": "x" * 151})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["message"].startswith("name:")
    alice.refresh_from_db()
    assert alice.name == "Alice"


@pytest.mark.parametrize("body", [{"email": "mallory@example.com"}, {"name": "A", "email_verified": True}, {}])
def test_only_the_name_can_be_changed(client, alice, body):
    response = patch_me(client, obtain(client, alice.email)["access"], body)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    alice.refresh_from_db()
    assert (alice.email, alice.name, alice.email_verified) == ("alice@example.com", "Alice", True)
