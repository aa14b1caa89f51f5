"""The privacy center, written for people: counts, purposes and retention instead of rows, the
history and status of the user's own requests, and an email when a request is received and
another when it is done."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.utils import timezone

from numfree.outbox.testing import run_pending
from privacy import subject_requests
from privacy.models import DataSubjectRequest
from telephony.models import CallLog

pytestmark = pytest.mark.django_db


def _center(client) -> str:  # type: ignore[no-untyped-def]
    response = client.get("/privacy/center/")
    assert response.status_code == 200
    return response.content.decode()


def _mails_to(address: str) -> list:  # type: ignore[type-arg]
    return [message for message in mail.outbox if message.to == [address]]


def test_a_request_made_in_the_center_is_acknowledged_by_email_and_listed_with_its_deadline(alice_client, alice):
    response = alice_client.post(
        "/privacy/center/request/", {"kind": "correction", "details": "My old number is wrong"}, follow=True
    )
    assert "we emailed you a receipt" in response.content.decode()
    run_pending()

    [receipt] = _mails_to("alice@example.com")
    request = DataSubjectRequest.objects.get()
    assert receipt.subject == "We received your privacy request"
    assert f"request #{request.pk}" in receipt.body and "a correction of your data" in receipt.body
    assert f"{request.deadline:%-d %B %Y}" in receipt.body
    assert "My old number is wrong" not in receipt.body  # the email says what, not the details

    page = _center(alice_client)
    assert "A correction of your data" in page
    assert f"Received — we answer by {request.deadline:%-d %b %Y}" in page


def test_an_export_is_acknowledged_then_announced_ready_with_a_link_to_sign_in_and_download(alice_client, alice):
    alice_client.post("/privacy/center/export/")
    run_pending()  # the receipt and the build; then the "done" email
    run_pending()

    subjects = [message.subject for message in _mails_to("alice@example.com")]
    assert subjects == ["We received your privacy request", "Your privacy request is done"]
    done = _mails_to("alice@example.com")[1]
    assert "Your export is ready" in done.body and "/privacy/center/#export" in done.body
    request = DataSubjectRequest.objects.get(kind="export")
    assert f"Done on {timezone.localtime(request.fulfilled_at):%-d %b %Y}" in _center(alice_client)


def test_a_request_is_closed_and_announced_only_once(alice):
    request = subject_requests.record_from_center(alice, DataSubjectRequest.OBJECTION, "stop the analytics")
    assert subject_requests.mark_fulfilled(request) is True
    assert subject_requests.mark_fulfilled(request) is False
    run_pending()
    assert [m.subject for m in _mails_to("alice@example.com")].count("Your privacy request is done") == 1


def test_the_center_shows_counts_and_dates_never_the_records_themselves(alice_client, alice):
    CallLog.objects.create(
        user=alice, kind="phone", direction="in", external_id="CA" + "1" * 32, peer_number="+14155550123"
    )
    page = _center(alice_client)
    assert re.search(r"Call logs</th>\s*<td[^>]*>1</td>", page)
    assert "+14155550123" not in page and "(415) 555-0123" not in page
    assert "What for:" in page and "Kept:" in page


def test_the_request_history_shows_only_the_users_own_requests(alice_client, alice, bob):
    subject_requests.record_from_center(bob, DataSubjectRequest.CORRECTION, "bob's request")
    page = _center(alice_client)
    assert "You have not made a privacy request yet." in page
    assert "bob" not in page.lower()


def test_a_deletion_is_acknowledged_and_its_last_email_says_it_is_done(alice_client, alice):
    from tests.conftest import PASSWORD

    alice_client.post("/privacy/center/delete/", {"password": PASSWORD, "confirm": "on"})
    run_pending()
    run_pending()
    subjects = [message.subject for message in _mails_to("alice@example.com")]
    assert subjects == ["We received your privacy request", "Your NumFree account is deleted"]
