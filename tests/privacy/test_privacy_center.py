"""The privacy center: access, correct, object, and support requests — for its owner only."""

from __future__ import annotations

import pytest

from privacy.models import DataSubjectRequest, Objection, PageView, StaffAccess


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/privacy/center/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_the_access_section_lists_every_category_of_the_policy(alice_client):
    page = alice_client.get("/privacy/center/").content.decode()
    for title in ("Account information", "Phone number data", "Payment data", "Usage data", "Cookies"):
        assert title in page
    assert "alice@example.com" in page
    assert "bcrypt hash" in page


@pytest.mark.django_db
def test_the_access_section_shows_only_the_signed_in_users_data(alice_client, bob):
    PageView.objects.create(user=bob, ip="203.0.113.9", browser="Firefox", path="/bobs-page/")
    page = alice_client.get("/privacy/center/").content.decode()
    assert "bob@example.com" not in page and "/bobs-page/" not in page


@pytest.mark.django_db
def test_the_access_section_shows_who_at_numfree_looked_at_the_data(alice_client, alice, staff):
    StaffAccess.objects.create(staff=staff, staff_label=staff.email, subject=alice, what="User #1 (change page)")
    page = alice_client.get("/privacy/center/").content.decode()
    assert "support@numfree.com" in page and "User #1 (change page)" in page


@pytest.mark.django_db
def test_a_user_corrects_their_name(alice_client, alice):
    response = alice_client.post("/privacy/center/name/", {"name": "Alice Liddell"})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Alice Liddell"


@pytest.mark.django_db
def test_a_card_number_typed_as_a_name_is_masked(alice_client, alice):
    alice_client.post("/privacy/center/name/", {"name": "4111 1111 1111 1111"})
    alice.refresh_from_db()
    assert "4111 1111 1111" not in alice.name


@pytest.mark.django_db
def test_the_email_change_goes_through_the_account_page_that_reverifies_it(alice_client):
    page = alice_client.get("/privacy/center/").content.decode()
    assert 'href="/account/"' in page and "once you confirm it" in page


@pytest.mark.django_db
def test_a_request_for_anything_else_is_recorded_with_its_due_date(alice_client, alice):
    response = alice_client.post(
        "/privacy/center/request/", {"kind": "correction", "details": "My old number is wrong"}
    )
    assert response.status_code == 302
    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.source, request.user, request.status) == (
        "correction",
        "privacy_center",
        alice,
        "received",
    )
    assert (request.due_at - request.received_at).days == 30


@pytest.mark.django_db
def test_switching_off_usage_analytics_is_recorded_with_a_date(alice_client, alice):
    alice_client.post("/privacy/center/object/", {"analytics": "off"})
    objection = Objection.objects.get(user=alice)
    assert objection.objected and objection.recorded_at
    assert "<strong>off</strong>" in alice_client.get("/privacy/center/").content.decode()
    alice_client.post("/privacy/center/object/", {"analytics": "on"})
    assert list(Objection.objects.filter(user=alice).order_by("recorded_at").values_list("objected", flat=True)) == [
        True,
        False,
    ]


@pytest.mark.django_db
def test_privacy_center_actions_refuse_get(alice_client):
    assert alice_client.get("/privacy/center/object/").status_code == 405
