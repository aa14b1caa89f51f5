"""Every request that queues work, reaches staff or calls a provider is rate-limited per account: 429, Retry-After, a readable page."""

from __future__ import annotations

import pytest

from privacy.models import DataSubjectRequest

pytestmark = pytest.mark.django_db


def _over_the_limit(client, settings, limit: str, url: str, data=None) -> None:  # type: ignore[no-untyped-def]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, limit: "2/h"}
    answers = [client.post(url, data or {}) for _ in range(3)]
    assert [answer.status_code for answer in answers[:2]] != [429, 429]
    refused = answers[2]
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused["Content-Type"].startswith("text/html") and "Too many attempts" in refused.content.decode()


def test_requests_to_staff_from_the_privacy_center_are_limited(alice_client, settings):
    _over_the_limit(
        alice_client, settings, "privacy_request", "/privacy/center/request/", {"kind": "correction", "details": "x"}
    )
    assert DataSubjectRequest.objects.count() == 2


def test_export_requests_are_limited(alice_client, settings, drain):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "privacy_export": "2/h"}
    for _ in range(2):
        alice_client.post("/privacy/center/export/")
        drain()
    assert alice_client.post("/privacy/center/export/").status_code == 429


def test_account_deletion_attempts_are_limited(alice_client, alice, settings):
    _over_the_limit(alice_client, settings, "account_deletion", "/privacy/center/delete/", {"password": "wrong"})
    alice.refresh_from_db()
    assert alice.is_active


def test_limits_count_per_account_not_for_everyone(alice_client, client, bob, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "privacy_request": "1/h"}
    alice_client.post("/privacy/center/request/", {"kind": "correction", "details": "x"})
    client.force_login(bob)
    assert client.post("/privacy/center/request/", {"kind": "correction", "details": "y"}).status_code == 302


def test_voicemail_deletions_are_limited(alice_client, alice, settings):
    from telephony.models import Voicemail

    ids = [
        Voicemail.objects.create(
            user=alice, recording_sid=f"RE{n:032d}", call_sid=f"CA{n:032d}", peer_number="+14155550100", duration_s=3
        ).pk
        for n in range(3)
    ]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "voicemail_delete_account": "2/h"}
    answers = [alice_client.post(f"/dashboard/voicemail/{pk}/delete/").status_code for pk in ids]
    assert answers == [302, 302, 429]
    assert Voicemail.objects.count() == 1


def test_stripe_checkout_and_portal_sessions_are_limited(alice_client, settings):
    _over_the_limit(alice_client, settings, "billing_checkout_account", "/dashboard/billing/checkout/", {"plan": "x"})
    _over_the_limit(alice_client, settings, "billing_portal_account", "/dashboard/billing/portal/")
