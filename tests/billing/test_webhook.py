"""Stripe's webhook: signatures verified on the raw body (300 s tolerance), each event applied once."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from billing.fake_stripe import simulation, store
from billing.models import BillingAccount, StripeEvent
from numfree.outbox.testing import run_pending
from tests.billing.conftest import post_event


@pytest.fixture
def failed_payment_event(alice_stripe):  # type: ignore[no-untyped-def]
    """Alice is subscribed; Stripe has just declined her renewal and the events are not yet delivered."""
    alice_stripe.subscribe()
    simulation.fail_payment(alice_stripe.account().stripe_subscription_id)
    events = alice_stripe.undelivered()
    return next(event for event in events if event["type"] == "invoice.payment_failed")


def _status(user) -> str:  # type: ignore[no-untyped-def]
    return BillingAccount.objects.get(user=user).status


def test_a_correctly_signed_event_is_applied(client, alice, failed_payment_event):
    response = post_event(client, failed_payment_event)
    assert response.status_code == 200
    assert _status(alice) == "past_due"


def test_a_tampered_body_is_refused_and_changes_nothing(client, alice, failed_payment_event):
    tampered = json.dumps({**failed_payment_event, "id": "evt_forged"})
    response = post_event(client, failed_payment_event, body=tampered)
    assert response.status_code == 400
    assert response.json()["code"] == "stripe_signature_invalid"
    assert _status(alice) == "active"
    assert not StripeEvent.objects.filter(id__in=["evt_forged", failed_payment_event["id"]]).exists()


def test_an_event_signed_with_another_secret_is_refused(client, alice, failed_payment_event):
    response = post_event(client, failed_payment_event, secret="whsec_someone_else")
    assert response.status_code == 400
    assert _status(alice) == "active"


def test_an_event_without_a_signature_is_refused(client, alice, failed_payment_event):
    response = client.post("/webhooks/stripe/", data=json.dumps(failed_payment_event), content_type="application/json")
    assert response.status_code == 400
    assert _status(alice) == "active"


def test_a_signature_301_seconds_old_is_refused(client, alice, failed_payment_event):
    response = post_event(client, failed_payment_event, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert _status(alice) == "active"


def test_a_signature_299_seconds_old_is_accepted(client, alice, failed_payment_event):
    response = post_event(client, failed_payment_event, timestamp=int(time.time()) - 299)
    assert response.status_code == 200
    assert _status(alice) == "past_due"


def test_the_same_event_delivered_again_changes_nothing_and_emails_once(client, alice, failed_payment_event):
    first = post_event(client, failed_payment_event)
    second = post_event(client, failed_payment_event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    run_pending()
    assert [message.to for message in mail.outbox] == [[alice.email]]
    assert "didn't go through" in mail.outbox[0].subject


def test_each_failed_attempt_is_emailed_once(alice, alice_stripe):
    alice_stripe.subscribe()
    alice_stripe.fail_payment()
    alice_stripe.fail_payment()
    run_pending()
    failures = [message for message in mail.outbox if "didn't go through" in message.subject]
    assert len(failures) == 2
    assert "attempt 1" in failures[0].body and "attempt 2" in failures[1].body


def test_only_post_reaches_the_webhook(client):
    assert client.get("/webhooks/stripe/").status_code == 405


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_simultaneous_deliveries_of_one_event_change_state_once_and_all_get_2xx(alice, alice_stripe):
    alice_stripe.subscribe()
    simulation.fail_payment(alice_stripe.account().stripe_subscription_id)
    event = next(event for event in alice_stripe.undelivered() if event["type"] == "invoice.payment_failed")
    barrier = threading.Barrier(5)
    statuses: list[int] = []
    lock = threading.Lock()

    def deliver() -> None:
        try:
            client = Client()
            barrier.wait(timeout=10)
            response = post_event(client, event)
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 5
    assert StripeEvent.objects.filter(id=event["id"]).count() == 1
    assert _status(alice) == "past_due"
    run_pending()
    assert len([message for message in mail.outbox if "didn't go through" in message.subject]) == 1


def test_the_fake_keeps_its_events_for_delivery(alice_stripe):
    alice_stripe.subscribe()
    assert {event["type"] for event in store.all_of("event")} == {
        "customer.subscription.created",
        "invoice.paid",
        "checkout.session.completed",
    }
