"""The fake's Messages list (what reconciliation reads) matches Twilio's description: query fields
Twilio declares, answers in its schema, pages followed through next_page_uri, filters as Twilio's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from telephony import twilio_api, twilio_fake
from tests.providers.test_fake_twilio_matches_twilio import _check, exchanges  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
LIST = "/2010-04-01/Accounts/{AccountSid}/Messages.json"


def _number() -> str:
    return twilio_api.buy_number(twilio_api.search_numbers("US", "415", limit=1)[0].e164).e164


def test_the_messages_list_and_its_pages_match_twilios_description(exchanges) -> None:  # noqa: F811
    number = _number()
    account = twilio_api.account_sid()
    sids = [twilio_fake.receive_message(account, "+14155550100", number, body=f"text {i}")[0] for i in range(5)]
    exchanges.clear()
    found = list(
        twilio_api.client().messages.stream(
            to=number, date_sent_after=datetime.now(UTC) - timedelta(minutes=1), page_size=2
        )
    )
    assert [message.sid for message in found] == sids[::-1]  # newest first, as Twilio lists
    assert [message.body for message in found] == [f"text {i}" for i in range(4, -1, -1)]
    assert len(exchanges) == 3  # pages of 2, 2 and 1
    assert {(exchange.method, _check(exchange)) for exchange in exchanges} == {("GET", LIST)}


def test_the_list_filters_by_recipient_sender_and_date_sent() -> None:
    number = _number()
    account = twilio_api.account_sid()
    now = datetime.now(UTC)
    with time_machine.travel(now - timedelta(days=2), tick=False):
        old = twilio_fake.receive_message(account, "+14155550100", number, body="old")[0]
    recent = twilio_fake.receive_message(account, "+14155550101", number, body="recent")[0]
    twilio_fake.receive_message(account, "+14155550100", "+14155559999", body="another number")
    client = twilio_api.client()
    assert {m.sid for m in client.messages.list(to=number)} == {old, recent}
    assert [m.sid for m in client.messages.list(to=number, date_sent_after=now - timedelta(hours=1))] == [recent]
    assert [m.sid for m in client.messages.list(to=number, date_sent_before=now - timedelta(days=1))] == [old]
    assert [m.sid for m in client.messages.list(to=number, from_="+14155550101")] == [recent]
