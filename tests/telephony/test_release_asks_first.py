"""Releasing the number asks first and says what follows, for the calls, the texts and the plan."""

from __future__ import annotations

import pytest
from django.test import Client

from billing.models import BillingAccount
from telephony.models import PhoneNumber

pytestmark = pytest.mark.django_db


def test_the_number_page_links_to_a_question_instead_of_releasing_at_once(alice_client, alice_number) -> None:
    page = alice_client.get("/dashboard/number/").content.decode()
    assert 'href="/dashboard/number/release/"' in page
    assert 'action="/dashboard/number/release/"' not in page


def test_the_question_says_the_plan_keeps_running_and_releasing_needs_the_confirm(alice_client, alice_number) -> None:
    page = alice_client.get("/dashboard/number/release/").content.decode()
    assert "(415)" in page  # the number, formatted
    assert "Your plan is not cancelled" in page and "billing page" in page
    assert "may be given to someone else" in page
    assert PhoneNumber.objects.filter(pk=alice_number.pk).exists()
    response = alice_client.post("/dashboard/number/release/", follow=True)
    assert not PhoneNumber.objects.filter(pk=alice_number.pk).exists()
    assert "Your plan keeps running" in response.content.decode()


def test_without_service_the_question_says_the_hold_ends(alice_client, alice, alice_number) -> None:
    BillingAccount.objects.filter(user=alice).update(status="canceled")
    page = alice_client.get("/dashboard/number/release/").content.decode()
    assert "Releasing it ends the hold now" in page


def test_without_a_number_the_question_goes_back_to_the_number_page(alice_client, alice) -> None:
    response = alice_client.get("/dashboard/number/release/")
    assert response.status_code == 302 and response["Location"] == "/dashboard/number/"


def test_another_user_and_a_visitor_cannot_release_alices_number(alice_number, bob) -> None:
    other = Client()
    other.force_login(bob)
    other.post("/dashboard/number/release/")
    assert Client().post("/dashboard/number/release/").status_code == 302
    assert PhoneNumber.objects.filter(pk=alice_number.pk).exists()


def test_after_a_release_the_billing_page_says_the_plan_runs_on_without_a_number(
    alice_client, alice, alice_number
) -> None:
    BillingAccount.objects.filter(user=alice).update(stripe_subscription_id="sub_123", stripe_customer_id="cus_123")
    assert "(415)" in alice_client.get("/dashboard/billing/").content.decode()
    alice_client.post("/dashboard/number/release/")
    page = alice_client.get("/dashboard/billing/").content.decode()
    assert "keeps running and renewing without one" in page
