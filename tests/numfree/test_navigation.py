"""One navigation on every page: signed in, it marks the current section and reaches Billing,
Contacts and Privacy from everywhere; the number search says up front that a plan is needed;
the checkout return page has a same-origin JSON status to poll."""

from __future__ import annotations

import re
from typing import Any

import pytest

from billing.models import BillingAccount
from telephony.models import PhoneNumber
from tests.conftest import make_user
from tests.numfree.site_pages import add_contacts, crawl, set_up, url_conf_pages

SECTIONS = {
    "/dashboard/",
    "/dashboard/number/",
    "/dashboard/calls/",
    "/dashboard/messages/",
    "/dashboard/voicemail/",
    "/dashboard/contacts/",
    "/dashboard/forwarding/",
    "/dashboard/billing/",
    "/privacy/center/",
    "/account/",
}
PUBLIC = ["/", "/pricing/", "/login/", "/signup/", "/privacy/", "/privacy/extension/", "/password-reset/"]


def _current(page: str) -> list[str]:
    """Labels of the links marked as the current page (without a count badge)."""
    marked = re.findall(r'aria-current="page"[^>]*>(.*?)</a>', page)
    return [re.sub(r"<span class=\"badge\">.*", "", label).strip() for label in marked]


def _signed_in_pages(client: Any, user: Any) -> dict[str, str]:
    client.force_login(user)
    statuses = crawl(client, ["/dashboard/", *url_conf_pages()])
    pages = {}
    for path, status in statuses.items():
        if status == 200 and path not in PUBLIC:
            response = client.get(path)
            if response["Content-Type"].startswith("text/html"):
                pages[path] = response.content.decode()
    return pages


@pytest.fixture
def set_up_alice(alice: Any) -> Any:
    set_up(alice)
    add_contacts(alice, make_user)
    return alice


def test_every_signed_in_page_has_one_main_navigation_with_billing_contacts_and_privacy(client, set_up_alice):
    pages = _signed_in_pages(client, set_up_alice)
    assert len(pages) >= 15, sorted(pages)
    for path, page in pages.items():
        assert page.count('<nav aria-label="Main">') == 1, path
        # Other <nav>s (a pager, a table of contents) may exist, but none repeats the sections.
        for other in re.findall(r"<nav(?![^>]*aria-label=\"Main\").*?</nav>", page, re.S):
            assert not set(re.findall(r'href="([^"#?]+)"', other)) & SECTIONS, f"{path} has a second menu: {other}"
        for href in ("/dashboard/billing/", "/dashboard/contacts/", "/privacy/center/", "/dashboard/"):
            assert f'href="{href}"' in page, f"{path} does not link to {href}"


def test_every_signed_in_page_marks_exactly_one_current_section_and_the_right_one(client, set_up_alice):
    pages = _signed_in_pages(client, set_up_alice)
    expected = {
        "/dashboard/": "Home",
        "/dashboard/number/": "Number",
        "/dashboard/calls/": "Calls",
        "/dashboard/messages/": "Texts",
        "/dashboard/voicemail/": "Voicemail",
        "/dashboard/contacts/": "Contacts",
        "/dashboard/forwarding/": "Forwarding",
        "/dashboard/billing/": "Billing",
        "/privacy/center/": "Privacy",
        "/account/": "Account",
        "/account/two-factor/": "Account",
        "/account/password/": "Account",
    }
    for path, label in expected.items():
        assert _current(pages[path]) == [label], path
    for path, page in pages.items():
        sections = 1 if path.startswith(("/dashboard/", "/account/", "/privacy/")) else 0  # not /signup/check-email/
        assert len(_current(page)) == sections, f"{path}: {_current(page)}"


def test_a_new_account_reaches_the_same_navigation(client, unverified):
    client.force_login(unverified)
    page = client.get("/dashboard/").content.decode()
    assert _current(page) == ["Home"]
    for href in ("/dashboard/billing/", "/dashboard/contacts/", "/privacy/center/"):
        assert f'href="{href}"' in page


def test_the_navigation_counts_unheard_voicemail(client, alice):
    set_up(alice, voicemails=3, heard=1)
    client.force_login(alice)
    page = client.get("/dashboard/calls/").content.decode()
    assert re.search(
        r'href="/dashboard/voicemail/">Voicemail <span class="badge">2<span class="visually-hidden"> unheard', page
    )


def test_no_badge_when_every_voicemail_was_heard(client, alice):
    set_up(alice, voicemails=2, heard=2)
    client.force_login(alice)
    assert 'class="badge"' not in client.get("/dashboard/calls/").content.decode()


def test_the_phone_menu_is_a_details_disclosure_that_works_without_script(alice_client):
    page = alice_client.get("/dashboard/").content.decode()
    assert re.search(r'<details class="site-menu" id="site-menu">\s*<summary>', page)
    assert "<script" not in page.split("<body>")[1]  # the CSP allows no inline script: none is needed


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_have_one_navigation_without_the_signed_in_sections(client, db, path):
    page = client.get(path).content.decode()
    assert page.count('<nav aria-label="Main"') == 1
    assert 'href="/dashboard/billing/"' not in page
    assert 'href="/login/"' in page


def test_the_number_search_says_up_front_that_a_plan_is_needed_with_a_link(alice_client):
    page = alice_client.get("/dashboard/number/").content.decode()
    main = page.split("<main")[1]
    assert "A number comes with a plan" in main
    assert main.index("A number comes with a plan") < main.index("Find a number")
    assert '<a class="button" href="/dashboard/billing/">Choose a plan</a>' in main


def test_the_number_search_does_not_ask_for_a_plan_the_user_has(client, alice):
    BillingAccount.objects.create(user=alice, plan="monthly", status="active", had_service=True)
    client.force_login(alice)
    page = client.get("/dashboard/number/").content.decode()
    assert "A number comes with a plan" not in page and "Find a number" in page


# --- The checkout return page and its status -------------------------------------------------


def test_the_plan_status_says_not_yet_while_stripe_confirms(alice_client):
    response = alice_client.get("/dashboard/billing/status/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response.json()["done"] is False and response.json()["next"] is None


def test_the_plan_status_offers_picking_a_number_once_the_plan_is_active(client, alice):
    BillingAccount.objects.create(user=alice, plan="monthly", status="active", had_service=True)
    client.force_login(alice)
    answer = client.get("/dashboard/billing/status/").json()
    assert answer["done"] is True and answer["message"] == "Your monthly plan is active."
    assert answer["next"] == {"label": "Pick a number", "url": "/dashboard/number/"}


def test_with_a_number_already_the_next_step_is_home(client, alice):
    BillingAccount.objects.create(user=alice, plan="yearly", status="active", had_service=True)
    PhoneNumber.objects.create(user=alice, e164="+14155550123", twilio_sid="PN" + "3" * 32, country="US")
    client.force_login(alice)
    assert client.get("/dashboard/billing/status/").json()["next"]["url"] == "/dashboard/"


def test_another_users_plan_does_not_answer_for_mine(client, alice, bob):
    BillingAccount.objects.create(user=alice, plan="monthly", status="active", had_service=True)
    client.force_login(bob)
    assert client.get("/dashboard/billing/status/").json()["done"] is False


def test_an_anonymous_status_request_is_a_json_401(client, db):
    response = client.get("/dashboard/billing/status/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_the_checkout_return_page_polls_the_status_and_offers_a_link_without_script(alice_client):
    page = alice_client.get("/dashboard/billing/?checkout=cs_test_1").content.decode()
    assert 'data-poll-url="/dashboard/billing/status/"' in page and 'data-poll-seconds="5"' in page
    assert 'href="/dashboard/billing/?checkout=cs_test_1">Check again</a>' in page
    assert 'src="/static/numfree/site.js"' in page


def test_the_checkout_return_page_offers_the_next_step_once_active(client, alice):
    BillingAccount.objects.create(user=alice, plan="monthly", status="active", had_service=True)
    client.force_login(alice)
    page = client.get("/dashboard/billing/?checkout=cs_test_1").content.decode()
    assert "Your monthly plan is active." in page
    assert '<a class="button" href="/dashboard/number/">Pick a number</a>' in page
    assert "data-poll-url" not in page
