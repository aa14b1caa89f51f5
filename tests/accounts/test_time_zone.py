"""The account's time zone: detected once by the browser, changeable, exported, and every time labelled in it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from accounts.models import User
from accounts.personal_data import export_account
from telephony.models import SmsLog

pytestmark = pytest.mark.django_db

AT = datetime(2026, 1, 15, 13, 5, tzinfo=UTC)


def _text(user) -> SmsLog:  # type: ignore[no-untyped-def]
    return SmsLog.objects.create(
        user=user,
        direction="in",
        message_sid="SM" + "1" * 32,
        peer_number="+14155550100",
        our_number="+14155550000",
        status="received",
        created_at=AT,
    )


def test_the_browser_reports_a_zone_once_and_it_is_kept_on_the_account(alice_client, alice) -> None:
    response = alice_client.post(
        "/account/time-zone/detect/", {"time_zone": "Europe/Paris"}, HTTP_ACCEPT="application/json"
    )
    assert response.json() == {"time_zone": "Europe/Paris", "saved": True}
    again = alice_client.post("/account/time-zone/detect/", {"time_zone": "Asia/Tokyo"}, HTTP_ACCEPT="application/json")
    assert again.json() == {"time_zone": "Europe/Paris", "saved": False}
    alice.refresh_from_db()
    assert alice.time_zone == "Europe/Paris"
    assert not any("zone" in name.lower() for name in response.cookies)


def test_times_are_shown_in_the_accounts_zone_with_its_label(alice_client, alice) -> None:
    _text(alice)
    page = alice_client.get("/dashboard/messages/", {"view": "log"}).content.decode()
    assert "15 Jan 2026, 13:05 UTC" in page
    alice_client.post("/account/time-zone/", {"time_zone": "Europe/Paris"})
    page = alice_client.get("/dashboard/messages/", {"view": "log"}).content.decode()
    assert "15 Jan 2026, 14:05 CET" in page


def test_the_detection_script_is_on_the_page_only_while_the_account_has_no_zone(alice_client, alice) -> None:
    assert "accounts/time_zone" in alice_client.get("/account/").content.decode()
    User.objects.filter(pk=alice.pk).update(time_zone="America/New_York")
    assert "accounts/time_zone" not in alice_client.get("/account/").content.decode()


def test_the_account_page_changes_the_zone_and_refuses_unknown_names(alice_client, alice) -> None:
    assert alice_client.post("/account/time-zone/", {"time_zone": "America/New_York"}).status_code == 302
    alice.refresh_from_db()
    assert alice.time_zone == "America/New_York"
    for bad in ["Mars/Olympus_Mons", "", "../../etc/passwd", "x" * 500, "EST5EDT\x00"]:
        response = alice_client.post("/account/time-zone/", {"time_zone": bad})
        assert response.status_code == 200 and 'class="errorlist' in response.content.decode(), bad
        detected = alice_client.post("/account/time-zone/detect/", {"time_zone": bad}, HTTP_ACCEPT="application/json")
        assert detected.status_code == 400 and detected.json()["code"] == "invalid", bad
    alice.refresh_from_db()
    assert alice.time_zone == "America/New_York"


def test_the_zone_is_set_only_by_its_owner(alice, bob) -> None:
    other = Client()
    other.force_login(bob)
    other.post("/account/time-zone/", {"time_zone": "Asia/Tokyo"})
    alice.refresh_from_db()
    assert alice.time_zone == ""
    anonymous = Client()
    assert anonymous.post("/account/time-zone/", {"time_zone": "Asia/Tokyo"}).status_code == 302
    assert anonymous.post("/account/time-zone/detect/", {"time_zone": "Asia/Tokyo"}).status_code == 302
    assert not User.objects.filter(time_zone="Asia/Tokyo").exclude(pk=bob.pk).exists()


def test_the_zone_is_in_the_export(alice) -> None:
    User.objects.filter(pk=alice.pk).update(time_zone="Europe/Paris")
    alice.refresh_from_db()
    assert export_account(alice).data["time_zone"] == "Europe/Paris"
