"""One account per mailbox, however its address is spelled, on SQLite and PostgreSQL alike.

The suite runs on both databases (.ci/run's two passes); every test here runs
in both. The spellings: uppercase, fullwidth letters, the Kelvin sign
(U+212A), the long s (U+017F), an IDNA domain in Unicode, uppercase and
punycode, a combining accent in the domain, and the refused ones: dotless i
(U+0131), dotted capital I (U+0130), accented or combining local parts.
"""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from accounts.email_identity import canonical_email, email_key, parse_email
from accounts.models import User
from numfree.outbox.testing import run_pending
from tests.conftest import PASSWORD, make_user

KELVIN = "\u212a"
LONG_S = "\u017f"
DOTLESS_I = "\u0131"
DOTTED_CAPITAL_I = "\u0130"
COMBINING_ACUTE = "\u0301"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


# Other spellings of kate@example.com (each one reaches the same mailbox).
KATE_SPELLINGS = [
    pytest.param("KATE@EXAMPLE.COM", id="uppercase"),
    pytest.param(f"{KELVIN}ate@example.com", id="kelvin-sign"),
    pytest.param(fullwidth("kate@example.com"), id="fullwidth"),
    pytest.param("  Kate@Example.com  ", id="spaces-and-case"),
]
SAM_SPELLINGS = [pytest.param(f"{LONG_S}am@example.com", id="long-s"), pytest.param("SAM@example.com", id="upper")]
REFUSED = [
    pytest.param(f"al{DOTLESS_I}ce@example.com", id="dotless-i"),
    pytest.param(f"{DOTTED_CAPITAL_I}nci@example.com", id="dotted-capital-i"),
    pytest.param("jos\u00e9@example.com", id="accented-local-part"),
    pytest.param(f"jose{COMBINING_ACUTE}@example.com", id="combining-local-part"),
    pytest.param("\u0430lice@example.com", id="cyrillic-a"),
    pytest.param('"a b"@example.com', id="quoted"),
    pytest.param("a..b@example.com", id="double-dot"),
    pytest.param("alice@[192.0.2.1]", id="domain-literal"),
    pytest.param("alice@localhost", id="no-dot-domain"),
    pytest.param("alice@exa_mple.com", id="underscore-domain"),
    pytest.param("a" * 65 + "@example.com", id="local-part-too-long"),
]


# --- The key itself ---------------------------------------------------------------


@pytest.mark.parametrize("spelling", KATE_SPELLINGS)
def test_every_spelling_of_one_mailbox_has_one_key(spelling):
    assert canonical_email(spelling) == canonical_email("kate@example.com") == "kate@example.com"


@pytest.mark.parametrize("spelling", SAM_SPELLINGS)
def test_the_long_s_is_an_s(spelling):
    assert canonical_email(spelling) == "sam@example.com"


@pytest.mark.parametrize(
    "spelling",
    ["bob@b\u00fccher.de", "bob@B\u00dcCHER.DE", "bob@bu\u0308cher.de", "bob@xn--bcher-kva.de", "bob@b\u00fccher.de."],
    ids=["unicode", "uppercase", "combining", "punycode", "trailing-dot"],
)
def test_an_international_domain_has_one_key_in_any_spelling(spelling):
    assert canonical_email(spelling) == "bob@xn--bcher-kva.de"
    assert parse_email(spelling).address == "bob@b\u00fccher.de"


def test_the_stored_address_keeps_the_local_part_as_typed_and_lowercases_the_domain():
    assert parse_email("Dora@Example.COM").address == "Dora@example.com"
    assert parse_email(fullwidth("Dora@example.com")).address == "Dora@example.com"


def test_dots_and_plus_tags_are_not_folded_they_are_different_mailboxes():
    keys = {
        canonical_email(spelling) for spelling in ["alice@example.com", "a.lice@example.com", "alice+x@example.com"]
    }
    assert len(keys) == 3


@pytest.mark.parametrize("raw", REFUSED)
def test_refused_addresses_raise_a_validation_error(raw):
    with pytest.raises(ValidationError) as info:
        canonical_email(raw)
    assert info.value.code == "email_refused"


def test_a_refused_lookalike_keeps_a_key_of_its_own_so_it_finds_nobody_elses_account():
    assert email_key(f"al{DOTLESS_I}ce@example.com") != email_key("alice@example.com")
    assert email_key("\u0430lice@example.com") != email_key("alice@example.com")


_ATOM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-", min_size=1
)


@given(
    local=st.lists(_ATOM, min_size=1, max_size=3).map(".".join).filter(lambda text: len(text) <= 64),
    labels=st.lists(st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True), min_size=1, max_size=3),
    tld=st.sampled_from(["com", "de", "org", "xn--p1ai"]),
    width=st.booleans(),
)
def test_accepted_addresses_key_the_same_before_and_after_storing(local, labels, tld, width):
    raw = f"{local}@{'.'.join(labels)}.{tld}"
    typed = fullwidth(raw) if width else raw.upper()
    try:
        identity = parse_email(raw)
    except ValidationError:
        return  # e.g. a label IDNA refuses ("xn--" prefixes, "--" in third and fourth position)
    assert email_key(typed) == email_key(raw) == identity.key
    assert parse_email(identity.address) == identity
    assert identity.key.isascii()


# --- Sign-up, login, reset, tokens: one account per key -------------------------------


def signup(client, email: str):  # type: ignore[no-untyped-def]
    return client.post("/signup/", {"email": email, "name": "", "password1": PASSWORD, "password2": PASSWORD})


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", KATE_SPELLINGS + SAM_SPELLINGS)
def test_signing_up_with_another_spelling_of_a_taken_address_creates_no_second_account(client, spelling):
    owner = make_user("sam@example.com" if "am@" in spelling.lower() else "kate@example.com")
    response = signup(client, spelling)
    assert response.status_code == 302
    assert User.objects.count() == 1
    run_pending()
    (message,) = mail.outbox
    assert message.to == [owner.email]  # the owner's own address, not the spelling typed
    assert "already has one" in message.body


@pytest.mark.django_db
@pytest.mark.parametrize("raw", REFUSED[:5])
def test_signing_up_with_a_refused_address_shows_why_and_creates_nothing(client, raw):
    response = signup(client, raw)
    assert response.status_code == 200
    page = response.content.decode()
    assert "letters a to z" in page or "valid email address" in page
    assert User.objects.count() == 0
    run_pending()
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_dotless_i_sign_up_cannot_keep_the_real_alice_from_registering(client):
    signup(client, f"al{DOTLESS_I}ce@example.com")
    signup(client, "alice@example.com")
    assert list(User.objects.values_list("email", flat=True)) == ["alice@example.com"]
    run_pending()
    assert [message.to for message in mail.outbox] == [["alice@example.com"]]
    assert "/verify-email/" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_legacy_lookalike_account_does_not_break_the_real_ones_login(client):
    """Two rows PostgreSQL's UPPER() matched together: login answered 500 there."""
    alice = make_user("alice@example.com")
    lookalike = User(email=f"al{DOTLESS_I}ce@example.com", email_verified=True)  # stored before the rule
    lookalike.set_password("another password entirely 9")
    lookalike.save()
    response = client.post("/login/", {"username": "ALICE@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/account/").context["user"] == alice
    client.logout()
    response = client.post("/login/", {"username": lookalike.email, "password": "another password entirely 9"})
    assert response.status_code == 302
    assert client.get("/account/").context["user"] == lookalike


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", KATE_SPELLINGS)
def test_any_spelling_logs_in_to_the_one_account(client, spelling):
    kate = make_user("kate@example.com")
    response = client.post("/login/", {"username": spelling, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/account/").context["user"] == kate


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", KATE_SPELLINGS)
def test_any_spelling_gets_api_tokens_for_the_one_account(client, spelling):
    make_user("kate@example.com")
    response = client.post(
        "/api/auth/token/", {"email": spelling, "password": PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", KATE_SPELLINGS)
def test_a_reset_asked_in_any_spelling_mails_the_accounts_own_address(client, spelling):
    make_user("kate@example.com")
    client.post("/password-reset/", {"email": spelling})
    run_pending()
    (message,) = mail.outbox
    assert message.to == ["kate@example.com"]
    assert "/reset/" in message.body


@pytest.mark.django_db
def test_every_spelling_shares_one_login_budget(client):
    make_user("kate@example.com")
    count = int(settings.RATE_LIMITS["login_account"].split("/")[0])
    spellings = ["kate@example.com", f"{KELVIN}ate@example.com", fullwidth("kate@example.com"), "KATE@example.com"]
    for attempt in range(count):
        response = client.post(
            "/login/",
            {"username": spellings[attempt % len(spellings)], "password": "wrong"},
            REMOTE_ADDR=f"198.51.100.{attempt}",
        )
        assert response.status_code == 200
    for attempt, spelling in enumerate(spellings):
        response = client.post(
            "/login/", {"username": spelling, "password": PASSWORD}, REMOTE_ADDR=f"203.0.113.{attempt}"
        )
        assert response.status_code == 429, spelling


@pytest.mark.django_db
def test_changing_to_another_spelling_of_ones_own_address_is_refused(client):
    kate = make_user("kate@example.com")
    client.force_login(kate)
    response = client.post("/account/email/", {"new_email": f"{KELVIN}ATE@example.com", "password": PASSWORD})
    assert "already your email address" in response.content.decode()


@pytest.mark.django_db
def test_two_accounts_can_never_share_a_key_even_below_the_forms():
    make_user("kate@example.com")
    with pytest.raises(Exception) as info:
        make_user(f"{KELVIN}ATE@Example.com")
    assert "unique" in str(info.value).lower() or "duplicate" in str(info.value).lower()


# --- The migration that computes the key ------------------------------------------


def key_migration():  # type: ignore[no-untyped-def]
    return importlib.import_module("accounts.migrations.0003_email_key")


@pytest.mark.django_db
def test_the_migration_keys_existing_accounts_like_the_code_does():
    User.objects.bulk_create(
        [User(email="Kate@Example.com", email_key="placeholder-1"), User(email="bob@B\u00dccher.de", email_key="p-2")]
    )
    key_migration().fill_email_keys(django_apps, None)
    assert sorted(User.objects.values_list("email_key", flat=True)) == ["bob@xn--bcher-kva.de", "kate@example.com"]


@pytest.mark.django_db
def test_the_migration_stops_on_colliding_accounts_naming_ids_never_addresses():
    users = User.objects.bulk_create(
        [
            User(email="kate@example.com", email_key="p-1"),
            User(email=f"{KELVIN}ate@example.com", email_key="p-2"),
            User(email="sam@example.com", email_key="p-3"),
            User(email=f"{LONG_S}am@example.com", email_key="p-4"),
            User(email="alone@example.com", email_key="p-5"),
        ]
    )
    migration = key_migration()
    with pytest.raises(migration.EmailKeyCollision) as info:
        migration.fill_email_keys(django_apps, None)
    message = str(info.value)
    assert "2 email address(es)" in message
    assert f"{users[0].pk} & {users[1].pk}" in message and f"{users[2].pk} & {users[3].pk}" in message
    assert not re.search(r"\S+@\S+\.\w+", message.replace("email address(es)", ""))
    assert set(User.objects.values_list("email_key", flat=True)) == {"p-1", "p-2", "p-3", "p-4", "p-5"}


@pytest.mark.django_db
@pytest.mark.parametrize("spelling", [KATE_SPELLINGS[0], KATE_SPELLINGS[1], KATE_SPELLINGS[3]])
def test_a_contact_asked_in_another_spelling_is_the_one_account(client, spelling):
    """(The contacts API's email field refuses fullwidth text itself, with a 400.)"""
    from tests.accounts.api_session import bearer, obtain, post_json

    kate, bob = make_user("kate@example.com"), make_user("bob@example.com")
    kate_access = obtain(client, kate.email)["access"]
    assert post_json(client, "/api/contacts/", {"email": "bob@example.com"}, **bearer(kate_access)).status_code == 201
    bob_access = obtain(client, bob.email)["access"]
    response = post_json(client, "/api/contacts/", {"email": spelling}, **bearer(bob_access))
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "mutual"
