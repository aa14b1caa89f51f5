"""Asking for an email change tells nobody who has an account, and cannot be used to spam (issue #10, defect 3)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from numfree.outbox.testing import run_pending
from tests.conftest import PASSWORD, make_user


def limit_count(name: str) -> int:
    return int(settings.RATE_LIMITS[name].split("/")[0])


def email_section(page: str, address: str) -> str:
    """The account page's email panel, with the address asked for replaced by a placeholder."""
    section = re.search(r"<h2>Email address</h2>(.*?)</section>", page, flags=re.S).group(1)
    section = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", section)
    return section.replace(address, "ADDRESS")


def ask(client, new_email: str, **extra):  # type: ignore[no-untyped-def]
    return client.post("/account/email/", {"new_email": new_email, "password": PASSWORD}, **extra)


@pytest.mark.django_db
def test_the_account_page_answers_the_same_whether_or_not_the_address_has_an_account(client):
    make_user("taken@example.com")
    pages, mails = [], []
    for address in ("taken@example.com", "free@example.com"):
        asker = make_user(f"asker-for-{address}")
        client.force_login(asker)
        mail.outbox.clear()
        response = ask(client, address, follow=True)
        pages.append(email_section(response.content.decode(), address))
        run_pending()
        mails.append(sorted((message.to[0].replace(address, "ADDRESS"), message.subject) for message in mail.outbox))
    assert "You asked to change it to <strong>ADDRESS</strong>" in pages[1]
    assert pages[0] == pages[1]
    assert len(mails[0]) == len(mails[1]) == 2  # the address asked for, and a notice to the current one


@pytest.mark.django_db
def test_email_change_requests_stop_at_the_limit_per_account(client, alice):
    client.force_login(alice)
    count = limit_count("email_change_account")
    with time_machine.travel(timezone.now(), tick=False):
        for attempt in range(count):
            assert ask(client, f"stranger{attempt}@example.com", REMOTE_ADDR=f"198.51.100.{attempt}").status_code == 302
        response = ask(client, "one-more@example.com", REMOTE_ADDR="198.51.100.200")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many attempts" in response.content.decode()
    run_pending()
    assert not [message for message in mail.outbox if message.to == ["one-more@example.com"]]
    assert len(mail.outbox) == 2 * count


@pytest.mark.django_db
def test_a_wrong_password_counts_too_so_the_form_cannot_be_used_to_guess_it(client, alice):
    client.force_login(alice)
    for _ in range(limit_count("email_change_account")):
        client.post("/account/email/", {"new_email": "x@example.com", "password": "guess"})
    assert ask(client, "alice.new@example.com").status_code == 429


@pytest.mark.django_db
def test_email_change_requests_stop_at_the_limit_per_ip_across_accounts(client):
    count = limit_count("email_change_ip")
    with time_machine.travel(timezone.now(), tick=False):
        for attempt in range(count):
            client.force_login(make_user(f"user{attempt}@example.com"))
            assert ask(client, f"stranger{attempt}@example.com", REMOTE_ADDR="203.0.113.9").status_code == 302
        client.force_login(make_user("last@example.com"))
        response = ask(client, "victim@example.com", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429
    run_pending()
    assert not [message for message in mail.outbox if message.to == ["victim@example.com"]]


@pytest.mark.django_db
def test_resending_links_stops_at_the_limit_per_ip_across_accounts(client):
    count = limit_count("resend_verification_ip")
    with time_machine.travel(timezone.now(), tick=False):
        for attempt in range(count):
            client.force_login(make_user(f"new{attempt}@example.com", verified=False))
            assert client.post("/account/resend-verification/", REMOTE_ADDR="203.0.113.7").status_code == 302
        client.force_login(make_user("late@example.com", verified=False))
        response = client.post("/account/resend-verification/", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0


@pytest.mark.django_db
def test_the_per_account_budget_survives_an_address_change(client, alice):
    client.force_login(alice)
    count = limit_count("email_change_account")
    with time_machine.travel(timezone.now(), tick=False):
        for attempt in range(count - 1):
            ask(client, f"stranger{attempt}@example.com")
        ask(client, "alice.new@example.com")
        run_pending()
        path = next(
            re.search(r"https?://\S+(/confirm-email/\S+)", message.body).group(1)
            for message in mail.outbox
            if message.to == ["alice.new@example.com"]
        )
        client.get(path)
        assert ask(client, "again@example.com").status_code == 429
