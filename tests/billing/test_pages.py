"""Billing pages for the owner, another user and an anonymous visitor; no card field ever renders; CSP holds."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client

from billing.models import BillingAccount


def _no_card_field_and_no_inline_code(html: str) -> None:
    assert not re.search(r"<input[^>]*(card|cc-|cvc|cvv|expir)", html, re.IGNORECASE)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "style=" not in html and "<style" not in html
    assert not re.search(r"src=\"https?://", html)  # nothing loaded from another host


def test_the_pricing_page_is_public_and_shows_both_plans(client, db):
    response = client.get("/pricing/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "$5 a month" in html and "$50 a year" in html and "Sign up to subscribe" in html
    _no_card_field_and_no_inline_code(html)


def test_the_billing_page_needs_a_login(client, db):
    response = client.get("/dashboard/billing/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.post("/dashboard/billing/checkout/", {"plan": "monthly"}).status_code == 302
    assert not BillingAccount.objects.exists()


def test_the_billing_page_shows_only_the_owners_plan(alice_stripe, bob):
    client = Client()
    alice_stripe.subscribe("yearly")
    assert "<th>Plan</th><td>Yearly</td>" in alice_stripe.page()
    client.force_login(bob)
    html = client.get("/dashboard/billing/").content.decode()
    assert "<th>Plan</th>" not in html and "<h2>Subscribe</h2>" in html


def test_the_customer_is_created_once_and_reused(alice, alice_client):
    for _ in range(3):
        assert alice_client.post("/dashboard/billing/checkout/", {"plan": "monthly"}).status_code == 302
    customer = BillingAccount.objects.get(user=alice).stripe_customer_id
    from billing.fake_stripe import store

    assert [c["id"] for c in store.all_of("customer")] == [customer]
    sessions = store.all_of("checkout.session")
    assert {s["customer"] for s in sessions} == {customer}
    assert {s["client_reference_id"] for s in sessions} == {str(alice.pk)}


def test_an_unknown_plan_is_a_readable_error(alice_client):
    response = alice_client.post("/dashboard/billing/checkout/", {"plan": "lifetime"})
    assert response.status_code == 400
    assert "There is no such plan" in response.content.decode()


def test_an_unverified_user_cannot_subscribe(client, unverified):
    client.force_login(unverified)
    response = client.post("/dashboard/billing/checkout/", {"plan": "monthly"})
    assert response.status_code == 409


def test_a_subscriber_is_not_sent_to_checkout_twice(alice_stripe):
    alice_stripe.subscribe()
    response = alice_stripe.client.post("/dashboard/billing/checkout/", {"plan": "yearly"})
    assert response.status_code == 409


def test_the_fake_checkout_page_has_a_button_and_no_card_field_for_its_owner_only(alice_client, bob):
    client = Client()
    location = alice_client.post("/dashboard/billing/checkout/", {"plan": "monthly"})["Location"]
    path = urlsplit(location).path
    assert path.startswith("/_fake/stripe/checkout/cs_test_")
    response = alice_client.get(path)
    html = response.content.decode()
    assert response.status_code == 200 and "Pay with test card" in html
    _no_card_field_and_no_inline_code(html)
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert client.get(path).status_code == 404  # anonymous
    client.force_login(bob)
    assert client.get(path).status_code == 404  # another user
    assert client.post(path).status_code == 404


def test_the_portal_opens_for_the_owner_only(alice_stripe, bob):
    client = Client()
    alice_stripe.subscribe()
    response = alice_stripe.client.post("/dashboard/billing/portal/")
    assert response.status_code == 302
    path = urlsplit(response["Location"]).path
    html = alice_stripe.client.get(path).content.decode()
    assert "Cancel subscription" in html
    _no_card_field_and_no_inline_code(html)
    assert client.get(path).status_code == 404
    client.force_login(bob)
    assert client.get(path).status_code == 404
    assert (
        client.post(
            path, {"action": "cancel", "subscription": alice_stripe.account().stripe_subscription_id}
        ).status_code
        == 404
    )
    assert client.post("/dashboard/billing/portal/").status_code == 409  # bob has nothing to manage


def test_canceling_in_the_portal_stops_service(alice_stripe):
    alice_stripe.subscribe()
    path = urlsplit(alice_stripe.client.post("/dashboard/billing/portal/")["Location"]).path
    sub = alice_stripe.account().stripe_subscription_id
    assert alice_stripe.client.post(path, {"action": "cancel", "subscription": sub}).status_code == 302
    alice_stripe.deliver()
    assert alice_stripe.account().status == "canceled"


@pytest.mark.django_db(transaction=True)
def test_make_run_flow_checkout_completes_through_signed_webhooks_sent_by_the_worker(live_server, settings, alice):
    """The fake's delivery job POSTs signed events over HTTP to our own /webhooks/stripe/."""
    from numfree.outbox.testing import run_pending

    settings.PUBLIC_URL = live_server.url
    browser = Client()
    browser.force_login(alice)
    path = urlsplit(browser.post("/dashboard/billing/checkout/", {"plan": "monthly"})["Location"]).path
    response = browser.post(path)
    assert response.status_code == 302 and "checkout=cs_test_" in response["Location"]
    assert not BillingAccount.objects.get(user=alice).status
    run_pending()
    account = BillingAccount.objects.get(user=alice)
    assert (account.status, account.plan) == ("active", "monthly")
