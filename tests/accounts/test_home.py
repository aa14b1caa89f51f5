"""The signed-in home page (/dashboard/): a checklist for a new account, and for a set-up one its
number, plan, unheard voicemail, latest calls and texts and contact requests, in a bounded number of queries."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import SignIn
from billing.models import BillingAccount
from signaling import contacts
from telephony.models import CallLog, Forwarding, PhoneNumber, SmsLog, Voicemail
from tests.conftest import make_user
from tests.numfree.site_pages import NUMBER, set_up


def _page(client: Any, user: Any) -> str:
    client.force_login(user)
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return response.content.decode()


def _digits(page: str) -> str:
    return "".join(ch for ch in page if ch.isdigit())


def _steps(page: str) -> dict[str, bool]:
    """Each checklist step and whether it is marked done."""
    steps = {}
    for key in ("verify", "plan", "number", "forwarding", "extension"):
        marker = f'data-step="{key}"'
        assert marker in page, f"step {key} missing"
        start = page.rindex("<li", 0, page.index(marker))
        steps[key] = 'class="done"' in page[start : page.index(marker)]
    return steps


def test_a_new_account_sees_the_checklist_with_nothing_done_and_one_button_per_step(client, unverified):
    page = _page(client, unverified)
    assert "Get set up" in page
    assert _steps(page) == dict.fromkeys(("verify", "plan", "number", "forwarding", "extension"), False)
    assert 'action="/account/resend-verification/"' in page  # verifying is a button that sends the link again
    for url in ("/dashboard/billing/", "/dashboard/number/", "/dashboard/forwarding/", "/privacy/extension/"):
        assert f'href="{url}"' in page
    assert "Latest calls" not in page  # nothing to show yet


def test_a_verified_account_has_the_first_step_done_and_is_pointed_at_a_plan(alice_client):
    page = alice_client.get("/dashboard/").content.decode()
    assert _steps(page) == {"verify": True, "plan": False, "number": False, "forwarding": False, "extension": False}
    # The next step is the primary button; later ones are secondary.
    assert '<a class="button" href="/dashboard/billing/">Choose a plan</a>' in page
    assert '<a class="button secondary" href="/dashboard/number/">Pick a number</a>' in page


def test_after_a_number_is_bought_the_home_shows_it_and_no_longer_offers_to_get_one(client, alice):
    BillingAccount.objects.create(user=alice, plan="monthly", status="active", had_service=True)
    PhoneNumber.objects.create(user=alice, e164=NUMBER, twilio_sid="PN" + "1" * 32, country="US")
    page = _page(client, alice)
    assert "Get your NumFree number" not in page
    assert "Pick a number" not in page
    assert 'id="home-number"' in page and "4155550123" in _digits(page)
    assert _steps(page)["number"] is True and _steps(page)["plan"] is True


def test_a_set_up_account_sees_number_plan_unheard_voicemail_latest_calls_and_texts_and_no_checklist(client, alice):
    set_up(alice, voicemails=3, heard=1)
    page = _page(client, alice)
    assert "Get set up" not in page
    assert "Get your NumFree number" not in page
    assert 'id="home-number"' in page
    assert "Monthly" in page and "Renews" in page
    assert "2 unheard" in page
    assert ("Latest calls" in page and "2025550000" in page.replace("-", "").replace(" ", "")) or "202" in page
    assert page.count("missed ·") == 3
    assert page.count("forwarded to your email ·") == 3


def test_the_latest_lists_stop_at_five_rows(client, alice):
    set_up(alice, calls=12, texts=12)
    page = _page(client, alice)
    assert page.count("missed ·") == 5
    assert page.count("forwarded to your email ·") == 5


def test_pending_contact_requests_show_with_an_accept_button_and_only_to_the_person_asked(client, alice, bob):
    contacts.ask(bob, alice.email)
    page = _page(client, alice)
    assert "Contact requests" in page and "bob@example.com wants to be your contact" in page
    request_id = contacts.list_contacts(alice)[0].id
    assert f'action="/dashboard/contacts/{request_id}/accept/"' in page
    assert "Contact requests" not in _page(client, bob)  # Bob asked: nothing for him to answer


def test_another_user_sees_none_of_the_owners_number_history_or_requests(client, alice, bob):
    set_up(alice)
    contacts.ask(make_user("dave@example.com"), alice.email)
    page = _page(client, bob)
    assert "4155550123" not in _digits(page)
    assert "dave@example.com" not in page
    assert "Get set up" in page


def test_an_anonymous_visitor_is_sent_to_log_in(client, db):
    assert client.get("/dashboard/")["Location"] == "/login/?next=/dashboard/"


def test_the_home_costs_the_same_number_of_queries_with_a_long_history(
    client, alice, bob, django_assert_max_num_queries
):
    set_up(alice, calls=1, texts=1, voicemails=1)
    client.force_login(alice)
    with django_assert_max_num_queries(20) as small:
        client.get("/dashboard/")
    for i in range(40):
        contacts.ask(make_user(f"asker{i}@example.com"), alice.email)
    set_up(
        bob, calls=200, texts=200, voicemails=50, number="+14155550124"
    )  # another account's rows cost nothing either
    CallLog.objects.filter(user=bob).update(user=alice)
    SmsLog.objects.filter(user=bob).update(user=alice)
    Voicemail.objects.filter(user=bob).update(user=alice)
    with django_assert_max_num_queries(len(small.captured_queries)) as large:
        client.get("/dashboard/")
    assert len(large.captured_queries) == len(small.captured_queries)


@pytest.mark.parametrize("step", ["plan", "number", "forwarding", "extension"])
def test_each_step_is_marked_done_by_its_own_fact(client, alice, step):
    if step == "plan":
        BillingAccount.objects.create(user=alice, plan="monthly", status="active", had_service=True)
    elif step == "number":
        PhoneNumber.objects.create(user=alice, e164=NUMBER, twilio_sid="PN" + "2" * 32, country="US")
    elif step == "forwarding":
        Forwarding.objects.create(user=alice, phone="+14155550999", phone_verified=True)
    else:
        SignIn.objects.create(user=alice)
    done = _steps(_page(client, alice))
    assert done == {"verify": True, **{key: key == step for key in ("plan", "number", "forwarding", "extension")}}


def test_a_forwarding_address_still_waiting_for_its_link_leaves_the_forwarding_step_open(client, alice):
    Forwarding.objects.create(
        user=alice, phone="+14155550999", phone_verified=True, email="me@example.org", email_verified=False
    )
    assert _steps(_page(client, alice))["forwarding"] is False
