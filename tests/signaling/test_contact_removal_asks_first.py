"""Removing or blocking a contact on the web asks first and says what follows; only the contact's own people reach the question."""

from __future__ import annotations

import pytest
from django.test import Client

from signaling import contacts
from signaling.models import Contact
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def mutual(alice, bob):  # type: ignore[no-untyped-def]
    asked = contacts.ask(alice, bob.email)
    contacts.accept(bob, asked.id)
    return asked.id


def test_the_contacts_page_links_to_a_question_instead_of_removing_at_once(alice_client, mutual) -> None:
    page = alice_client.get("/dashboard/contacts/").content.decode()
    assert f'href="/dashboard/contacts/{mutual}/remove/"' in page
    assert f'action="/dashboard/contacts/{mutual}/remove/"' not in page


def test_the_question_says_what_follows_and_only_the_post_removes(alice_client, alice, bob, mutual) -> None:
    page = alice_client.get(f"/dashboard/contacts/{mutual}/remove/").content.decode()
    assert "bob@example.com" in page and "neither of you can call the other" in page
    assert "one of you asks again" in page
    assert contacts.list_contacts(alice)[0].status == "mutual"
    alice_client.post(f"/dashboard/contacts/{mutual}/remove/")
    assert contacts.list_contacts(alice) == [] and contacts.list_contacts(bob) == []


def test_the_block_question_says_their_requests_stay_hidden(alice_client, mutual) -> None:
    page = alice_client.get(f"/dashboard/contacts/{mutual}/block/").content.decode()
    assert "requests to you stay hidden" in page


def test_another_user_and_a_visitor_never_reach_the_question(alice, mutual) -> None:
    carol = make_user("carol@example.com")
    other = Client()
    other.force_login(carol)
    assert other.get(f"/dashboard/contacts/{mutual}/remove/").status_code == 404
    assert Client().get(f"/dashboard/contacts/{mutual}/remove/").status_code == 302
    assert Contact.objects.filter(id=mutual).exists()


def test_accepting_is_never_done_by_a_get(bob, mutual) -> None:
    other = Client()
    other.force_login(bob)
    assert other.get(f"/dashboard/contacts/{mutual}/accept/").status_code == 404
    assert other.get("/dashboard/contacts/not-a-uuid/remove/").status_code == 404
