"""Mail to an unconfirmed address carries no text the requester chose, and names are one line (issue #10, defect 3).

A name with line breaks and a URL used to turn the confirmation mail to a
stranger's address into phishing. Names are refused at input when they hold
control characters (web forms and PATCH /api/me/ share one validator), and
mail to an address nobody has confirmed greets nobody by name.
"""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps as django_apps
from django.core import mail

from accounts.display_names import single_line
from accounts.models import User
from numfree.outbox.testing import run_pending
from tests.accounts.api_session import ME_URL, bearer, obtain
from tests.conftest import PASSWORD, make_user

PHISHING_NAME = "Alice\n\nYour account is locked. Unlock it at https://numfree-help.example/unlock\n\n"
REFUSED_NAMES = [
    pytest.param("Alice\nhttps://evil.example", id="newline"),
    pytest.param("Alice\r\nBob", id="crlf"),
    pytest.param("Alice\tBob", id="tab"),
    pytest.param("Alice\u2028Bob", id="line-separator"),
    pytest.param("Alice\u2029Bob", id="paragraph-separator"),
    pytest.param("Alice \u202egnp.exe", id="bidi-override"),
    pytest.param("Alice \u2066Bob\u2069", id="bidi-isolate"),
    pytest.param("Alice\u200eBob", id="left-to-right-mark"),
    pytest.param("Al\u00adice", id="soft-hyphen"),
    pytest.param("Alice\x07", id="bell"),
]
ACCEPTED_NAMES = [
    pytest.param("Zoë O'Brien-Smith", id="latin"),
    pytest.param("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", id="persian-with-zwnj"),
    pytest.param("\U0001f469\u200d\U0001f4bb Ada", id="emoji-with-zwj"),
    pytest.param("山田 太郎", id="japanese"),
]


def patch_name(client, user: User, name: str):  # type: ignore[no-untyped-def]
    access = obtain(client, user.email)["access"]
    return client.patch(ME_URL, data=json.dumps({"name": name}), content_type="application/json", **bearer(access))


def mail_to(address: str) -> list[mail.EmailMessage]:
    run_pending()
    return [message for message in mail.outbox if message.to == [address]]


# --- Names are one line -------------------------------------------------------------


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_the_account_page_refuses_a_name_with_control_characters(alice_client, alice, name):
    response = alice_client.post("/account/", {"name": name})
    assert response.status_code == 200
    assert "Use one line of plain text" in response.content.decode()
    alice.refresh_from_db()
    assert alice.name == "Alice"


@pytest.mark.parametrize("name", REFUSED_NAMES)
def test_the_api_refuses_a_name_with_control_characters_with_a_clear_error(client, alice, name):
    response = patch_name(client, alice, name)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["message"].startswith("name: Use one line of plain text")
    alice.refresh_from_db()
    assert alice.name == "Alice"


@pytest.mark.django_db
def test_sign_up_refuses_a_name_with_control_characters(client):
    response = client.post(
        "/signup/",
        {"email": "dora@example.com", "name": PHISHING_NAME.strip(), "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert "Use one line of plain text" in response.content.decode()
    assert not User.objects.exists()
    assert mail_to("dora@example.com") == []


@pytest.mark.parametrize("name", ACCEPTED_NAMES)
def test_names_in_any_script_are_kept_as_typed(client, alice, name):
    response = patch_name(client, alice, name)
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.name == name


@pytest.mark.django_db
def test_names_stored_before_the_rule_become_one_line():
    legacy = make_user("legacy@example.com")
    User.objects.filter(pk=legacy.pk).update(name="Alice\n\nClick https://evil.example\u202e now")
    untouched = make_user("fine@example.com", name="Zoë")
    importlib.import_module("accounts.migrations.0004_single_line_names").clean_names(django_apps, None)
    legacy.refresh_from_db()
    untouched.refresh_from_db()
    assert legacy.name == "Alice Click https://evil.example now"
    assert untouched.name == "Zoë"
    assert single_line("\u2028 Bob \t") == "Bob"


# --- Mail to unconfirmed addresses ------------------------------------------------------


@pytest.mark.django_db
def test_the_sign_up_confirmation_mail_greets_nobody_by_name(client):
    client.post("/signup/", {"email": "dora@example.com", "name": "Dora", "password1": PASSWORD, "password2": PASSWORD})
    (message,) = mail_to("dora@example.com")
    assert "/verify-email/" in message.body
    assert "Dora" not in message.body


@pytest.mark.django_db
def test_the_email_change_link_to_the_new_address_carries_nothing_the_asker_typed(client):
    user = make_user("alice@example.com", name="Visit numfree-help.example now")
    client.force_login(user)
    client.post("/account/email/", {"new_email": "stranger@example.com", "password": PASSWORD})
    (message,) = mail_to("stranger@example.com")
    assert "/confirm-email/" in message.body
    assert "numfree-help" not in message.body
    assert "Visit" not in message.body + message.subject


@pytest.mark.django_db
def test_the_mail_to_an_address_that_already_has_an_account_carries_nothing_the_asker_typed(client, bob):
    user = make_user("alice@example.com", name="Visit numfree-help.example now")
    client.force_login(user)
    client.post("/account/email/", {"new_email": "bob@example.com", "password": PASSWORD})
    (message,) = mail_to("bob@example.com")
    assert "numfree-help" not in message.body


@pytest.mark.django_db
def test_a_reset_mail_to_an_unconfirmed_account_greets_nobody_by_name(client):
    make_user("dora@example.com", verified=False, name="Visit numfree-help.example now")
    client.post("/password-reset/", {"email": "dora@example.com"})
    (message,) = mail_to("dora@example.com")
    assert "/reset/" in message.body
    assert "numfree-help" not in message.body


@pytest.mark.django_db
def test_mail_to_a_confirmed_address_still_greets_its_owner_by_name(client, alice):
    client.post("/password-reset/", {"email": "alice@example.com"})
    (message,) = mail_to("alice@example.com")
    assert message.body.startswith("Hello Alice,")
