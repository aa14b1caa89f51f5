"""The activity chart: fresh on every request, days counted in the user's zone, agreeing with the rows it links to."""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.template import RequestContext, Template
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import User
from telephony.models import CallLog, SmsLog

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _calls(user, count: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    start = CallLog.objects.count()
    CallLog.objects.bulk_create(
        CallLog(
            user=user,
            kind="phone",
            direction="in",
            external_id=f"CA{start + i:032d}",
            peer_number="+14155550100",
            started_at=at,
        )
        for i in range(count)
    )


def _texts(user, count: int, at: datetime) -> None:  # type: ignore[no-untyped-def]
    start = SmsLog.objects.count()
    SmsLog.objects.bulk_create(
        SmsLog(
            user=user,
            direction="in",
            message_sid=f"SM{start + i:032d}",
            peer_number="+14155550100",
            our_number="+14155550000",
            status="received",
            created_at=at,
        )
        for i in range(count)
    )


def _summary(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/dashboard/calls/").content.decode()
    return re.search(r"(\d+ calls? and \d+ texts? in the last 30 days)", page).group(1)


@time_machine.travel(NOW, tick=False)
def test_the_chart_counts_rows_added_since_it_was_last_drawn(alice_client, alice) -> None:
    _calls(alice, 1, NOW - timedelta(hours=1))
    _texts(alice, 2, NOW - timedelta(hours=1))
    assert _summary(alice_client) == "1 call and 2 texts in the last 30 days"
    _calls(alice, 1, NOW - timedelta(days=2))
    _texts(alice, 56, NOW - timedelta(days=3))
    assert _summary(alice_client) == "2 calls and 58 texts in the last 30 days"


@time_machine.travel(NOW, tick=False)
def test_days_are_the_users_local_days(alice_client, alice) -> None:
    # 23:30 on 9 March in UTC is already 10 March in Tokyo (UTC+9): today's bar there.
    _calls(alice, 1, datetime(2026, 3, 9, 23, 30, tzinfo=UTC))
    page = alice_client.get("/dashboard/calls/").content.decode()
    assert "Mon 9 Mar: 1 call</title>" in page and "Day (UTC)" in page
    User.objects.filter(pk=alice.pk).update(time_zone="Asia/Tokyo")
    page = alice_client.get("/dashboard/calls/").content.decode()
    assert "Tue 10 Mar: 1 call</title>" in page and "Mon 9 Mar: 0 calls</title>" in page
    assert "Day (Asia/Tokyo)" in page


@time_machine.travel(NOW, tick=False)
def test_the_chart_agrees_with_the_rows_it_links_to(alice_client, alice) -> None:
    User.objects.filter(pk=alice.pk).update(time_zone="America/Los_Angeles")
    _calls(alice, 3, NOW - timedelta(days=1))
    _calls(alice, 2, NOW - timedelta(days=29, hours=21))  # the first local day of the window, or just before it
    _calls(alice, 4, NOW - timedelta(days=45))  # outside the window
    _texts(alice, 5, NOW - timedelta(hours=3))
    request = RequestFactory().get("/")
    request.user = User.objects.get(pk=alice.pk)
    with timezone.override(zoneinfo.ZoneInfo("America/Los_Angeles")):
        chart = Template("{% load telephony_tags %}{% activity_chart %}").render(RequestContext(request))
    calls_url = re.search(r'href="(/dashboard/calls/\?[^"]+)"', chart).group(1).replace("&amp;", "&")
    texts_url = re.search(r'href="(/dashboard/messages/\?[^"]+)"', chart).group(1).replace("&amp;", "&")
    calls = json.loads(b"".join(alice_client.get(calls_url + "&export=json").streaming_content))
    texts = json.loads(b"".join(alice_client.get(texts_url + "&export=json").streaming_content))
    summary = re.search(r"(\d+) calls? and (\d+) texts?", chart)
    assert (int(summary.group(1)), int(summary.group(2))) == (len(calls), len(texts))
    assert len(texts) == 5 and 3 <= len(calls) <= 5


def test_the_axes_are_labelled_and_plurals_are_right(alice_client, alice) -> None:
    _calls(alice, 1, datetime.now(UTC))
    page = alice_client.get("/dashboard/calls/").content.decode()
    assert "Per day</text>" in page and "Day (UTC)</text>" in page
    assert ": 1 call</title>" in page and ": 0 texts</title>" in page and "1 call and 0 texts" in page


def test_the_chart_is_for_signed_in_users_only() -> None:
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert "<svg" not in Template("{% load telephony_tags %}{% activity_chart %}").render(RequestContext(request))
