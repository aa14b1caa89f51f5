"""Whatever is typed into the new forms and URLs (names, time zones, replies, thread addresses), the answer is never a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

ANY_TEXT = st.text(max_size=120)
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(number=ANY_TEXT, name=ANY_TEXT)
def test_naming_a_number(alice_client, number: str, name: str) -> None:
    response = alice_client.post("/dashboard/people/name/", {"number": number, "name": name})
    assert response.status_code in {200, 302}


@FAST
@given(zone=ANY_TEXT)
def test_choosing_and_reporting_a_time_zone(alice_client, zone: str) -> None:
    assert alice_client.post("/account/time-zone/", {"time_zone": zone}).status_code in {200, 302}
    detected = alice_client.post("/account/time-zone/detect/", {"time_zone": zone}, HTTP_ACCEPT="application/json")
    assert detected.status_code in {200, 400}


@FAST
@given(to=ANY_TEXT, body=st.text(max_size=1700))
def test_replying_from_a_thread(alice_client, alice_number, to: str, body: str) -> None:
    response = alice_client.post("/dashboard/messages/send/", {"to": to, "body": body, "from": "thread"})
    assert response.status_code in {302, 429}


@FAST
@given(peer=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_any_thread_address(alice_client, peer: str) -> None:
    quoted = quote(peer, safe="")
    assert alice_client.get(f"/dashboard/messages/{quoted}/").status_code in {200, 404}
    assert alice_client.get(f"/dashboard/messages/{quoted}/statuses/").status_code in {200, 404}
