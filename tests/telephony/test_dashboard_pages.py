"""The numbers pages, exports, voicemail files and /api/calls/: owner, other user, anonymous."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from accounts.tokens import issue_pair
from telephony.models import CallLog, PhoneNumber, SmsLog, Voicemail

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_data(alice, alice_number):  # type: ignore[no-untyped-def]
    now = timezone.now()
    for index in range(3):
        CallLog.objects.create(
            user=alice,
            kind="phone",
            direction="in",
            external_id=f"CA{index:032d}",
            peer_number=f"+1415555010{index}",
            started_at=now - timedelta(hours=index),
            missed=index == 1,
        )
        SmsLog.objects.create(
            user=alice,
            direction="in",
            message_sid=f"SM{index:032d}",
            peer_number=f"+1415555010{index}",
            our_number=alice_number.e164,
            status="received",
            created_at=now - timedelta(hours=index),
        )
    voicemail = Voicemail.objects.create(
        user=alice, recording_sid="RE" + "0" * 32, call_sid="CA" + "0" * 32, peer_number="+14155550100", duration_s=4
    )
    voicemail.audio.save("a.mp3", ContentFile(b"\xff\xfbaudio"), save=True)
    return voicemail


def _pages(voicemail_id: int) -> list[str]:
    return [
        "/dashboard/number/",
        "/dashboard/calls/",
        "/dashboard/calls/?export=csv",
        "/dashboard/calls/?export=json",
        "/dashboard/messages/",
        "/dashboard/messages/?export=csv",
        "/dashboard/messages/?export=json",
        "/dashboard/voicemail/",
        "/dashboard/voicemail/?export=json",
        f"/dashboard/voicemail/{voicemail_id}/audio/",
        "/dashboard/forwarding/",
    ]


def test_owner_sees_every_page_and_file(alice_client, alice_data) -> None:
    for path in _pages(alice_data.pk):
        response = alice_client.get(path)
        assert response.status_code == 200, path
    audio = alice_client.get(f"/dashboard/voicemail/{alice_data.pk}/audio/")
    assert b"".join(audio.streaming_content) == b"\xff\xfbaudio"
    assert audio["Content-Type"] == "audio/mpeg"


def test_anonymous_is_sent_to_login_everywhere(client, alice_data) -> None:
    for path in _pages(alice_data.pk):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path


def test_another_user_sees_none_of_it_and_gets_404_on_every_object(client, bob, alice_data) -> None:
    client.force_login(bob)
    assert client.get(f"/dashboard/voicemail/{alice_data.pk}/audio/").status_code == 404
    assert client.post(f"/dashboard/voicemail/{alice_data.pk}/heard/").status_code == 404
    assert client.post(f"/dashboard/voicemail/{alice_data.pk}/delete/").status_code == 404
    assert Voicemail.objects.filter(pk=alice_data.pk, heard=False).exists()
    for path in ["/dashboard/calls/", "/dashboard/messages/", "/dashboard/voicemail/"]:
        assert b"+14155550100" not in client.get(path).content, path
    for path in [
        "/dashboard/calls/?export=json",
        "/dashboard/messages/?export=json",
        "/dashboard/voicemail/?export=json",
    ]:
        assert json.loads(b"".join(client.get(path).streaming_content)) == [], path


def test_owner_marks_heard_and_deletes_a_voicemail_with_its_file(alice_client, alice_data) -> None:
    alice_client.post(f"/dashboard/voicemail/{alice_data.pk}/heard/", {"heard": "1"})
    alice_data.refresh_from_db()
    assert alice_data.heard
    path = alice_data.audio.path
    alice_client.post(f"/dashboard/voicemail/{alice_data.pk}/delete/")
    assert not Voicemail.objects.exists()
    import os

    assert not os.path.exists(path)


def test_logs_are_newest_first_and_filters_narrow_them(alice_client, alice_data) -> None:
    rows = list(
        csv.reader(io.StringIO(b"".join(alice_client.get("/dashboard/calls/?export=csv").streaming_content).decode()))
    )
    assert [row[4] for row in rows[1:]] == ["+14155550100", "+14155550101", "+14155550102"]
    missed = json.loads(b"".join(alice_client.get("/dashboard/calls/?status=missed&export=json").streaming_content))
    assert [row["peer"] for row in missed] == ["+14155550101"]
    by_number = json.loads(
        b"".join(alice_client.get("/dashboard/messages/?number=%2B14155550102&export=json").streaming_content)
    )
    assert [row["peer_number"] for row in by_number] == ["+14155550102"]
    fragment = json.loads(b"".join(alice_client.get("/dashboard/messages/?number=0101&export=json").streaming_content))
    assert [row["peer_number"] for row in fragment] == ["+14155550101"]
    outgoing = json.loads(
        b"".join(alice_client.get("/dashboard/messages/?direction=out&export=json").streaming_content)
    )
    assert outgoing == []
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    assert (
        json.loads(b"".join(alice_client.get(f"/dashboard/calls/?since={tomorrow}&export=json").streaming_content))
        == []
    )


def test_keyset_pages_cover_every_row_once(alice_client, alice, settings) -> None:
    now = timezone.now()
    CallLog.objects.bulk_create(
        CallLog(
            user=alice,
            kind="phone",
            direction="in",
            external_id=f"CA{i:032d}",
            peer_number="+14155550100",
            started_at=now - timedelta(minutes=i // 2),
        )
        for i in range(120)
    )
    seen: list[int] = []
    path = "/dashboard/calls/"
    while path:
        response = alice_client.get(path)
        seen += [call.pk for call in response.context["items"]]
        path = "/dashboard/calls/?" + response.context["next_query"] if response.context["next_query"] else ""
    assert len(seen) == 120 and len(set(seen)) == 120


def test_the_calls_page_draws_the_activity_chart_as_svg(alice_client, alice_data) -> None:
    content = alice_client.get("/dashboard/calls/").content.decode()
    assert "<svg" in content and "calls</title>" in content
    assert "<script" not in content.split("<main")[1]


def _api(user) -> Client:  # type: ignore[no-untyped-def]
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")


def test_api_calls_lists_both_kinds_newest_first_with_a_cursor(alice, bob, alice_data) -> None:
    CallLog.objects.create(
        user=alice,
        kind="app",
        direction="out",
        external_id="call-1234",
        peer_user=bob,
        started_at=timezone.now() - timedelta(days=1),
    )
    CallLog.objects.bulk_create(
        CallLog(
            user=alice,
            kind="phone",
            direction="in",
            external_id=f"CB{i:032d}",
            peer_number="+14155550100",
            started_at=timezone.now() - timedelta(days=2, minutes=i),
        )
        for i in range(60)
    )
    client = _api(alice)
    body = client.get("/api/calls/").json()
    assert set(body["results"][0]) == {
        "id",
        "kind",
        "direction",
        "peer",
        "started_at",
        "answered_at",
        "ended_at",
        "duration_s",
        "end_reason",
        "missed",
    }
    assert len(body["results"]) == 50 and body["next"].startswith("http://testserver/api/calls/?cursor=")
    rest = client.get(body["next"]).json()
    assert rest["next"] is None
    everything = body["results"] + rest["results"]
    assert len(everything) == 64
    assert [row["started_at"] for row in everything] == sorted((row["started_at"] for row in everything), reverse=True)
    assert {"kind": "app", "peer": "bob@example.com"}.items() <= everything[3].items()


def test_api_calls_shows_another_user_nothing_and_anonymous_a_401(bob, alice_data) -> None:
    assert _api(bob).get("/api/calls/").json() == {"results": [], "next": None}
    response = Client().get("/api/calls/")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_a_paying_user_searches_buys_and_releases_a_number(alice_client, alice, alice_plan) -> None:
    page = alice_client.get("/dashboard/number/?country=US&area_code=415")
    results = page.context["results"]
    assert results and all(result.e164.startswith("+1415") for result in results)
    alice_client.post("/dashboard/number/buy/", {"e164": results[0].e164, "country": "US"})
    assert PhoneNumber.objects.get(user=alice).e164 == results[0].e164
    from telephony.numbers import current_number

    assert current_number(alice) == results[0].e164
    second = alice_client.post("/dashboard/number/buy/", {"e164": results[1].e164, "country": "US"}, follow=True)
    assert "already have a number" in second.content.decode()
    alice_client.post("/dashboard/number/release/")
    assert current_number(alice) is None


def test_an_unverified_user_cannot_get_a_number(client, unverified) -> None:
    client.force_login(unverified)
    client.post("/dashboard/number/buy/", {"e164": "+14155551000", "country": "US"})
    assert not PhoneNumber.objects.exists()


def test_without_a_plan_there_is_no_number_to_get(alice_client, alice) -> None:
    page = alice_client.get("/dashboard/number/?country=US&area_code=415")
    assert page.context["results"] == [] and "active plan" in page.context["error"]
    alice_client.post("/dashboard/number/buy/", {"e164": "+14155551000", "country": "US"})
    assert not PhoneNumber.objects.exists()
