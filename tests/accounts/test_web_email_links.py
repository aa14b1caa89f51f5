"""Signed email links: verification, resending, and changing the email address."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from accounts import verification
from accounts.models import User
from numfree.outbox.testing import run_pending
from tests.conftest import PASSWORD, make_user


def sent_links() -> dict[str, str]:
    """Recipient -> path of the link in the email sent to them (run the outbox first)."""
    run_pending()
    links = {}
    for message in mail.outbox:
        match = re.search(r"https?://\S+", message.body)
        if match:
            links[message.to[0]] = urlsplit(match.group(0)).path
    return links


def verify_path(user: User) -> str:
    return urlsplit(verification.verification_link(user)).path


# --- Verifying the sign-up address ---------------------------------------------


def test_a_verification_link_confirms_the_address_for_an_anonymous_visitor(client, unverified):
    response = client.get(verify_path(unverified))
    assert response.status_code == 200
    assert "Your email address is confirmed." in response.content.decode()
    unverified.refresh_from_db()
    assert unverified.email_verified


def test_the_owner_following_their_link_lands_on_the_dashboard_without_the_banner(client, unverified):
    client.force_login(unverified)
    response = client.get(verify_path(unverified), follow=True)
    assert response.redirect_chain == [("/dashboard/", 302)]
    page = response.content.decode()
    assert "Your email address is confirmed." in page
    assert "Please confirm your email address" not in page


def test_another_users_session_is_not_touched_when_they_open_someone_elses_link(client, alice, unverified):
    client.force_login(alice)
    response = client.get(verify_path(unverified))
    assert response.status_code == 200
    assert unverified.email not in response.content.decode()
    unverified.refresh_from_db()
    assert unverified.email_verified
    assert client.get("/account/").context["user"] == alice


def test_an_expired_link_shows_a_readable_page_and_verifies_nothing(client, unverified):
    issued = timezone.now()
    with time_machine.travel(issued, tick=False):
        path = verify_path(unverified)
    with time_machine.travel(issued + settings.EMAIL_VERIFICATION_MAX_AGE + timedelta(seconds=1), tick=False):
        response = client.get(path)
    assert response.status_code == 400
    assert "This link has expired" in response.content.decode()
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_a_link_just_inside_its_lifetime_still_works(client, unverified):
    issued = timezone.now()
    with time_machine.travel(issued, tick=False):
        path = verify_path(unverified)
    with time_machine.travel(issued + settings.EMAIL_VERIFICATION_MAX_AGE - timedelta(seconds=5), tick=False):
        assert client.get(path).status_code == 200
    unverified.refresh_from_db()
    assert unverified.email_verified


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.split(":")[0] + ":" + token.split(":", 1)[1][::-1],
        lambda token: "garbage",
    ],
    ids=["signature", "shuffled", "garbage"],
)
def test_a_tampered_link_shows_a_readable_page_and_verifies_nothing(client, unverified, tamper):
    token = verify_path(unverified).split("/")[2]
    response = client.get(f"/verify-email/{tamper(token)}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_a_link_for_one_purpose_does_not_work_for_the_other(client, unverified):
    token = verify_path(unverified).split("/")[2]
    response = client.get(f"/confirm-email/{token}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_a_link_cannot_verify_an_address_the_account_got_later(client, unverified):
    old_link = verify_path(unverified)
    unverified.email = "carol.new@example.com"
    unverified.save(update_fields=["email"])
    response = client.get(old_link)
    assert response.status_code == 400
    assert "no longer uses" in response.content.decode()
    unverified.refresh_from_db()
    assert not unverified.email_verified


def test_a_link_for_an_account_that_does_not_exist_is_simply_not_valid(client, db):
    token = verification.make_token(User(pk=987654), "gone@example.com", verification.VERIFY_SALT)
    response = client.get(f"/verify-email/{token}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


# --- Sending the link again ------------------------------------------------------


def test_an_unverified_user_can_have_the_link_sent_again(client, unverified):
    client.force_login(unverified)
    response = client.post("/account/resend-verification/")
    assert response["Location"] == "/account/"
    links = sent_links()
    assert list(links) == [unverified.email]
    assert client.get(links[unverified.email]).status_code == 302
    unverified.refresh_from_db()
    assert unverified.email_verified


def test_a_verified_user_asking_again_is_told_there_is_nothing_to_confirm(alice_client):
    response = alice_client.post("/account/resend-verification/", follow=True)
    assert "already confirmed" in response.content.decode()
    assert sent_links() == {}


def test_sending_the_link_again_needs_a_login_and_a_post(client, unverified):
    assert client.post("/account/resend-verification/")["Location"].startswith("/login/")
    client.force_login(unverified)
    assert client.get("/account/resend-verification/").status_code == 405
    assert sent_links() == {}


def test_sending_the_link_again_stops_at_the_configured_count_per_account(client, unverified):
    count = int(settings.RATE_LIMITS["resend_verification_account"].split("/")[0])
    client.force_login(unverified)
    with time_machine.travel(timezone.now(), tick=False):
        for attempt in range(count):
            assert client.post("/account/resend-verification/", REMOTE_ADDR=f"198.51.100.{attempt}").status_code == 302
        response = client.post("/account/resend-verification/", REMOTE_ADDR="198.51.100.200")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    run_pending()
    assert len(mail.outbox) == count


# --- Changing the email address --------------------------------------------------


def test_an_email_change_takes_effect_only_when_the_new_address_is_confirmed(client, alice):
    client.force_login(alice)
    response = client.post("/account/email/", {"new_email": "alice.new@example.com", "password": PASSWORD})
    assert response["Location"] == "/account/"
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    assert alice.pending_email == "alice.new@example.com"
    assert "alice.new@example.com" in client.get("/account/").content.decode()

    links = sent_links()
    notice = next(message for message in mail.outbox if message.to == ["alice@example.com"])
    assert "alice.new@example.com" in notice.body
    assert "/confirm-email/" not in notice.body  # the old address is told, it cannot confirm
    client.logout()
    response = client.get(links["alice.new@example.com"])
    assert response.status_code == 200
    assert "now your login" in response.content.decode()

    alice.refresh_from_db()
    assert alice.email == "alice.new@example.com"
    assert alice.email_verified
    assert alice.pending_email == ""
    assert client.post("/login/", {"username": "alice@example.com", "password": PASSWORD}).status_code == 200
    assert client.post("/login/", {"username": "Alice.New@example.com", "password": PASSWORD}).status_code == 302


def test_following_the_email_change_link_twice_is_harmless(client, alice):
    client.force_login(alice)
    client.post("/account/email/", {"new_email": "alice.new@example.com", "password": PASSWORD})
    path = sent_links()["alice.new@example.com"]
    assert client.get(path).status_code == 302
    response = client.get(path, follow=True)
    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.email == "alice.new@example.com"


def test_an_email_change_needs_the_current_password(client, alice):
    client.force_login(alice)
    response = client.post("/account/email/", {"new_email": "alice.new@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert "not your current password" in response.content.decode()
    alice.refresh_from_db()
    assert alice.pending_email == ""
    assert sent_links() == {}


def test_an_email_change_to_another_accounts_address_changes_nothing_and_tells_that_owner(client, alice, bob):
    client.force_login(alice)
    response = client.post("/account/email/", {"new_email": "BOB@example.com", "password": PASSWORD}, follow=True)
    assert "We sent a link to your new address" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"
    run_pending()
    to_bob = [message for message in mail.outbox if message.to == ["BOB@example.com"]]
    (message,) = to_bob
    assert "already has its own NumFree account" in message.body
    assert "/confirm-email/" not in message.body
    client.post("/account/resend-verification/")
    run_pending()
    assert all("/confirm-email/" not in message.body for message in mail.outbox)


def test_an_address_taken_before_the_link_is_followed_is_refused(client, alice):
    client.force_login(alice)
    client.post("/account/email/", {"new_email": "alice.new@example.com", "password": PASSWORD})
    path = sent_links()["alice.new@example.com"]
    make_user("alice.new@example.com")
    response = client.get(path)
    assert response.status_code == 400
    assert "belongs to another account" in response.content.decode()
    alice.refresh_from_db()
    assert alice.email == "alice@example.com"


def test_a_newer_email_change_or_a_cancellation_makes_the_older_link_useless(client, alice):
    client.force_login(alice)
    client.post("/account/email/", {"new_email": "first@example.com", "password": PASSWORD})
    first = sent_links()["first@example.com"]
    client.post("/account/email/", {"new_email": "second@example.com", "password": PASSWORD})
    second = sent_links()["second@example.com"]
    assert "no longer uses" in client.get(first).content.decode()

    assert client.post("/account/email/cancel/")["Location"] == "/account/"
    assert "no longer uses" in client.get(second).content.decode()
    alice.refresh_from_db()
    assert (alice.email, alice.pending_email) == ("alice@example.com", "")


def test_an_unverified_account_cannot_ask_for_another_address(client, unverified):
    client.force_login(unverified)
    assert 'name="new_email"' not in client.get("/account/").content.decode()
    response = client.post("/account/email/", {"new_email": "carol.fixed@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert "Confirm your current address first" in response.content.decode()
    unverified.refresh_from_db()
    assert (unverified.email, unverified.pending_email) == ("carol@example.com", "")
    assert "carol.fixed@example.com" not in sent_links()


def test_the_email_change_link_can_be_sent_again(client, alice):
    client.force_login(alice)
    client.post("/account/email/", {"new_email": "alice.new@example.com", "password": PASSWORD})
    run_pending()
    mail.outbox.clear()
    client.post("/account/resend-verification/")
    assert list(sent_links()) == ["alice.new@example.com"]


# --- The account page: owner, other user, anonymous --------------------------------


def test_the_account_page_shows_the_owners_details_only(client, alice, bob):
    client.force_login(alice)
    page = client.get("/account/").content.decode()
    assert "alice@example.com" in page
    assert "bob@example.com" not in page
    client.force_login(bob)
    page = client.get("/account/").content.decode()
    assert "bob@example.com" in page
    assert "alice@example.com" not in page


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/account/"),
        ("post", "/account/"),
        ("post", "/account/email/"),
        ("post", "/account/email/cancel/"),
        ("get", "/account/password/"),
        ("get", "/dashboard/"),
    ],
)
def test_account_pages_send_anonymous_visitors_to_the_login_page(client, db, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_a_user_changes_their_name_and_only_theirs(client, alice, bob):
    client.force_login(alice)
    response = client.post("/account/", {"name": "Alice Liddell"}, follow=True)
    assert "Your name is saved." in response.content.decode()
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.name, bob.name) == ("Alice Liddell", "Bob")


def test_a_card_number_typed_as_a_name_is_kept_as_its_last_four_digits(alice_client, alice):
    alice_client.post("/account/", {"name": "4242 4242 4242 4242"})
    alice.refresh_from_db()
    assert "4242 4242 4242 4242" not in alice.name
    assert alice.name.endswith("4242")
