"""The privacy center: access, correct, object, and support requests — for its owner only."""

from __future__ import annotations

import re

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


# --- the Access section stays small: counts and the latest, not everything ---


def _seed_calls(user, count: int) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from telephony.models import CallLog

    now = timezone.now()
    CallLog.objects.bulk_create(
        CallLog(
            user=user,
            kind="phone",
            direction="in",
            external_id=f"CA{user.pk:04d}{index:028d}",
            peer_number=f"+1415555{index % 10000:04d}",
            started_at=now - timedelta(minutes=index),
        )
        for index in range(count)
    )
    PageView.objects.bulk_create(
        PageView(user=user, ip="198.51.100.7", browser="Firefox", path="/dashboard/calls/") for _ in range(count)
    )


def _center(client) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/privacy/center/")
    assert response.status_code == 200
    return len(response.content), len(queries)


@pytest.mark.django_db
def test_the_page_costs_the_same_with_ten_or_two_thousand_log_entries(client, alice, bob):
    client.force_login(alice)
    _seed_calls(alice, 10)
    small_size, small_queries = _center(client)
    client.force_login(bob)
    _seed_calls(bob, 2000)
    large_size, large_queries = _center(client)
    assert large_queries == small_queries
    assert abs(large_size - small_size) < 200  # the counts have more digits, and the names differ
    assert re.search(r"Call logs</th>\s*<td[^>]*>2000</td>", client.get("/privacy/center/").content.decode())


@pytest.mark.django_db
def test_each_category_says_what_it_is_for_how_long_it_is_kept_how_many_and_how_recent(alice_client, alice, settings):
    settings.RETENTION_DAYS = 45
    _seed_calls(alice, 5)
    page = alice_client.get("/privacy/center/").content.decode()
    assert page.count("What for:") >= 5 and page.count("Kept:") >= 5
    assert "Call and SMS logs and voicemails: 45 days" in page
    assert re.search(r"Call logs</th>\s*<td[^>]*>5</td>", page)
    assert "the export</a> is the full copy" in page
    assert "Incoming" not in page  # counts and dates, never the rows themselves


@pytest.mark.django_db
def test_the_page_counts_the_users_own_browser_sessions(client, alice, bob):
    from django.test import Client

    for user in (alice, alice, bob):
        Client().force_login(user)
    client.force_login(alice)
    assert re.search(
        r"Browser sessions</th>\s*<td[^>]*>3</td>", client.get("/privacy/center/").content.decode()
    )  # two above, and this one
