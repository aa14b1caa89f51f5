"""Data-subject requests: due dates by law, extensions, highlighting, and the daily digest to staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from privacy.models import DataSubjectRequest
from privacy.subject_requests import send_digest, urgency
from twofactor.testing import force_login_with_two_factor


@pytest.mark.django_db
def test_gdpr_requests_are_due_in_one_month_and_ccpa_in_45_days():
    gdpr = DataSubjectRequest.objects.create(kind="access", regulation="gdpr", requester_email="a@example.com")
    ccpa = DataSubjectRequest.objects.create(kind="deletion", regulation="ccpa", requester_email="b@example.com")
    assert (gdpr.due_at - gdpr.received_at).days == 30
    assert (ccpa.due_at - ccpa.received_at).days == 45


@pytest.mark.django_db
def test_the_due_period_is_configurable(settings):
    settings.PRIVACY_REQUEST_DUE_DAYS = {"gdpr": 20, "ccpa": 40}
    request = DataSubjectRequest.objects.create(kind="access", requester_email="a@example.com")
    assert (request.due_at - request.received_at).days == 20


@pytest.mark.django_db
def test_an_extension_moves_the_deadline():
    request = DataSubjectRequest.objects.create(
        kind="access", requester_email="a@example.com", received_at=timezone.now() - timedelta(days=40)
    )
    assert urgency(request) == "overdue"
    request.extended_due_at = timezone.now() + timedelta(days=30)
    request.extension_reason = "Complex request: several accounts"
    request.save()
    assert urgency(request) == ""


@pytest.mark.django_db
def test_the_admin_list_highlights_overdue_and_due_soon_requests(client, staff):
    now = timezone.now()
    DataSubjectRequest.objects.create(
        kind="access", requester_email="late@example.com", received_at=now - timedelta(days=31)
    )
    DataSubjectRequest.objects.create(
        kind="export", requester_email="soon@example.com", received_at=now - timedelta(days=25)
    )
    DataSubjectRequest.objects.create(kind="deletion", requester_email="fresh@example.com")
    force_login_with_two_factor(client, staff)
    page = client.get("/admin/privacy/datasubjectrequest/").content.decode()
    assert page.count('class="dsr-overdue"') == 1 and page.count('class="dsr-due-soon"') == 1
    assert "privacy/admin.css" in page
    overdue_only = client.get("/admin/privacy/datasubjectrequest/?deadline=overdue").content.decode()
    assert "late@example.com" in overdue_only and "fresh@example.com" not in overdue_only


@pytest.mark.django_db
def test_support_staff_record_a_request_in_the_admin(client, staff):
    force_login_with_two_factor(client, staff)
    response = client.post(
        "/admin/privacy/datasubjectrequest/add/",
        {
            "kind": "access",
            "regulation": "ccpa",
            "source": "email",
            "status": "received",
            "requester_name": "Dana",
            "requester_email": "dana@example.com",
            "identity_verification": "Replied from the account's address",
            "details": "",
            "received_at_0": "2026-01-10",
            "received_at_1": "09:00:00",
            "due_at_0": "",
            "due_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    request = DataSubjectRequest.objects.get()
    assert request.due_at.date().isoformat() == "2026-02-24"


@pytest.mark.django_db
def test_the_daily_digest_emails_staff_what_is_due(staff, drain):
    DataSubjectRequest.objects.create(
        kind="access", requester_email="late@example.com", received_at=timezone.now() - timedelta(days=31)
    )
    DataSubjectRequest.objects.create(kind="deletion", requester_email="fresh@example.com")
    assert send_digest() == 1
    drain()
    message = mail.outbox[-1]
    assert message.to == ["support@numfree.com"]
    assert "1 overdue" in message.subject and "Access" in message.body
    assert "late@example.com" not in message.body


@pytest.mark.django_db
def test_no_digest_when_nothing_is_due(staff):
    DataSubjectRequest.objects.create(kind="deletion", requester_email="fresh@example.com")
    assert send_digest() == 0


@pytest.mark.django_db
def test_erasing_an_account_reduces_only_the_requests_typed_with_its_address_in_any_spelling():
    from privacy import subject_requests

    # A fullwidth "example" is the same address; a dotless i is another person's.
    mine = DataSubjectRequest.objects.create(
        kind="access", requester_email="ALICE@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", details="mine"
    )
    other = DataSubjectRequest.objects.create(
        kind="access", requester_email="al\u0131ce@example.com", details="not mine"
    )
    assert subject_requests.keep_only_hmac(999, "alice@example.com") == 1
    mine.refresh_from_db()
    other.refresh_from_db()
    assert (mine.requester_email, mine.details) == ("", "")
    assert mine.requester_email_hmac == subject_requests.email_hmac("Alice@Example.com")
    assert (other.requester_email, other.details) == ("al\u0131ce@example.com", "not mine")
