"""Deleting an account: password re-entered, account stopped at once, everything erased by the worker."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from privacy.models import DataSubjectRequest, PageView, StaffAccess
from privacy.subject_requests import email_hmac
from telephony.models import CallLog
from tests.conftest import PASSWORD

User = get_user_model()


@pytest.mark.django_db
def test_deleting_an_account_needs_the_password(alice_client, alice):
    page = alice_client.get("/privacy/center/delete/")
    assert page.status_code == 200 and 'type="password"' in page.content.decode()
    response = alice_client.post("/privacy/center/delete/", {"password": "not my password"})
    assert response.status_code == 400 and "That is not your password." in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active


@pytest.mark.django_db
def test_deletion_stops_the_account_at_once_and_signs_it_out(alice_client, alice):
    response = alice_client.post("/privacy/center/delete/", {"password": PASSWORD})
    assert response.status_code == 200 and "being deleted" in response.content.decode()
    alice.refresh_from_db()
    assert not alice.is_active
    assert alice_client.get("/privacy/center/").status_code == 302
    assert not Client().login(email="alice@example.com", password=PASSWORD)


@pytest.mark.django_db
def test_after_the_worker_ran_the_account_and_its_data_are_gone(alice_client, alice, drain):
    PageView.objects.create(user=alice, ip="198.51.100.7", browser="Firefox", path="/dashboard/")
    alice_client.post("/privacy/center/delete/", {"password": PASSWORD})
    drain()
    assert not User.objects.filter(pk=alice.pk).exists()
    assert not PageView.objects.exists()


@pytest.mark.django_db
def test_other_users_call_history_shows_deleted_user(alice_client, alice, bob, drain):
    CallLog.objects.create(user=bob, kind="app", direction="in", external_id="call-12345678", peer_user=alice)
    alice_client.post("/privacy/center/delete/", {"password": PASSWORD})
    drain()
    assert CallLog.objects.get(user=bob).peer == "deleted user"


@pytest.mark.django_db
def test_the_fulfilled_deletion_request_keeps_only_an_hmac_of_the_email_and_dates(alice_client, alice, drain):
    alice_client.post("/privacy/center/request/", {"kind": "correction", "details": "Alice Liddell, not Alice"})
    alice_client.post("/privacy/center/delete/", {"password": PASSWORD})
    drain()
    deletion = DataSubjectRequest.objects.get(kind="deletion")
    assert deletion.status == "fulfilled" and deletion.received_at and deletion.fulfilled_at
    for request in DataSubjectRequest.objects.all():
        assert request.user_id is None
        assert (request.requester_email, request.requester_name, request.details, request.identity_verification) == (
            "",
            "",
            "",
            "",
        )
        assert request.requester_email_hmac == email_hmac("Alice@Example.com")


@pytest.mark.django_db
def test_admin_log_entries_about_the_user_are_scrubbed(alice_client, alice, staff, drain):
    LogEntry.objects.log_actions(
        user_id=staff.pk, queryset=[alice], action_flag=CHANGE, change_message="Changed email.", single_object=True
    )
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(CallLog),
        object_id="9",
        object_repr="call of alice@example.com",
        action_flag=CHANGE,
    )
    kept = LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(CallLog),
        object_id="10",
        object_repr="someone else",
        action_flag=CHANGE,
    )
    alice_client.post("/privacy/center/delete/", {"password": PASSWORD})
    drain()
    assert list(LogEntry.objects.all()) == [kept]


@pytest.mark.django_db
def test_the_users_other_browser_sessions_are_deleted(alice_client, alice, drain):
    other_browser = Client()
    other_browser.force_login(alice)
    alice_client.post("/privacy/center/delete/", {"password": PASSWORD})
    drain()
    from privacy.models import UserSession

    assert other_browser.get("/dashboard/").status_code == 302
    assert not [s for s in UserSession.objects.all() if s.get_decoded().get("_auth_user_id") == str(alice.pk)]


@pytest.mark.django_db
def test_a_staff_members_access_log_entries_survive_their_deletion_without_their_email(staff, alice, drain, client):
    StaffAccess.objects.create(staff=staff, staff_label=staff.email, subject=alice, what="User #1 (change page)")
    client.force_login(staff)
    client.post("/privacy/center/delete/", {"password": PASSWORD})
    drain()
    access = StaffAccess.objects.get()
    assert access.staff_label == "deleted staff member" and access.subject == alice
