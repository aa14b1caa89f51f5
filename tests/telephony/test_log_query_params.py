"""Odd dates and cursors on the logs (dashboard pages, /api/calls/, /api/messages/): a clear 400, never a 500."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.tokens import issue_pair
from telephony.log_params import encode_cursor
from telephony.models import CallLog

pytestmark = pytest.mark.django_db

PAGES = ["/dashboard/calls/", "/dashboard/messages/", "/dashboard/voicemail/"]
APIS = ["/api/calls/", "/api/messages/"]
NO_FIXTURE_RESET = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


BAD_CURSORS = [
    raw_cursor("9999-12-31T23:59:59-23:59|1"),  # past year 9999 once in UTC
    raw_cursor("0001-01-01T00:00:00+23:59|1"),  # before year 1 once in UTC
    raw_cursor("2025-01-01T00:00:00+00:00|99999999999999999999999"),  # id past 64 bits
    raw_cursor("2025-01-01T00:00:00+00:00|-1"),
    raw_cursor("2025-01-01T00:00:00|1"),  # no offset
    raw_cursor("2025-02-30T00:00:00+00:00|1"),
    raw_cursor("2025-01-01T00:00:00+00:00"),
    "not a cursor",
    "%%%",
    "A" * 5000,
]


@pytest.fixture
def api(alice) -> Client:  # type: ignore[no-untyped-def]
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_pair(alice).access}")


@pytest.fixture
def a_call(alice) -> CallLog:  # type: ignore[no-untyped-def]
    return CallLog.objects.create(
        user=alice, kind="phone", direction="in", external_id="CA" + "1" * 32, peer_number="+14155550100",
        started_at=datetime(2025, 3, 31, 12, tzinfo=UTC),
    )  # fmt: skip


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2025-02-30", "yesterday", "2025-3-31", "99999-01-01"])
@pytest.mark.parametrize("param", ["since", "until"])
def test_a_day_filter_that_is_no_date_or_out_of_range_is_a_readable_400_page(alice_client, page, param, value) -> None:
    response = alice_client.get(page, {param: value})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert f"{param}: give a date" in response.content.decode()


@pytest.mark.parametrize("cursor", BAD_CURSORS)
@pytest.mark.parametrize("page", PAGES)
def test_a_page_cursor_that_is_not_ours_is_a_readable_400_page(alice_client, page, cursor) -> None:
    response = alice_client.get(page, {"after": cursor})

    assert response.status_code == 400
    assert "after: not a cursor of ours" in response.content.decode()


@pytest.mark.parametrize("cursor", BAD_CURSORS)
@pytest.mark.parametrize("url", APIS)
def test_an_api_cursor_that_is_not_ours_is_400_invalid(api, url, cursor) -> None:
    response = api.get(url, {"cursor": cursor})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["message"].startswith("cursor: ")


def test_the_last_day_that_has_a_next_day_still_filters(alice_client, a_call) -> None:
    response = alice_client.get("/dashboard/calls/", {"since": "2025-03-31", "until": "9999-12-30"})

    assert response.status_code == 200
    assert "+14155550100" in response.content.decode()


def test_a_cursor_in_another_offset_pages_from_the_same_moment(api, a_call) -> None:
    just_after = datetime(2025, 3, 31, 12, 0, 1, tzinfo=timezone(timedelta(hours=-23, minutes=-59)))

    body = api.get("/api/calls/", {"cursor": encode_cursor(just_after, 10**18)}).json()

    assert [row["id"] for row in body["results"]] == [a_call.pk]


@NO_FIXTURE_RESET
@given(cursor=st.text(max_size=200))
def test_no_text_as_a_cursor_is_a_server_error(api, alice_client, cursor) -> None:
    for response in (
        api.get("/api/calls/", {"cursor": cursor}),
        alice_client.get("/dashboard/messages/", {"after": cursor}),
    ):
        assert response.status_code in {200, 400}


offsets = st.timedeltas(min_value=-timedelta(hours=23, minutes=59), max_value=timedelta(hours=23, minutes=59))
# Mostly the edges of datetime's range, where an offset or a day more overflows.
moments = st.one_of(
    st.datetimes(min_value=datetime(9999, 12, 30)),
    st.datetimes(max_value=datetime(1, 1, 2)),
    st.datetimes(),
).flatmap(lambda naive: offsets.map(lambda offset: naive.replace(tzinfo=timezone(offset))))
days = st.one_of(
    st.dates(min_value=date(9999, 12, 25)).map(str),
    st.dates(max_value=date(1, 1, 7)).map(str),
    st.dates().map(str),
    st.text(max_size=30),
)


@NO_FIXTURE_RESET
@given(moment=moments, pk=st.integers(min_value=-(2**70), max_value=2**70))
def test_no_well_formed_cursor_at_any_moment_offset_or_id_is_a_server_error(api, alice_client, moment, pk) -> None:
    cursor = encode_cursor(moment, pk)
    for response in (
        api.get("/api/calls/", {"cursor": cursor}),
        api.get("/api/messages/", {"cursor": cursor}),
        alice_client.get("/dashboard/calls/", {"after": cursor}),
    ):
        assert response.status_code in {200, 400}


@NO_FIXTURE_RESET
@given(since=days, until=days)
def test_no_text_as_a_day_filter_is_a_server_error(alice_client, since, until) -> None:
    assert alice_client.get("/dashboard/calls/", {"since": since, "until": until}).status_code in {200, 400}
