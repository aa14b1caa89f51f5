"""The emails about texts and voicemail show numbers as the pages do: the user's name for the
number, else national format in the country of their NumFree number, international otherwise."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core import mail

from numfree.outbox.testing import run_pending
from telephony import twilio_api, twilio_fake
from telephony.forwarding import sms_not_forwarded
from telephony.models import SmsLog, Voicemail
from telephony.people import name_number
from telephony.voicemail import fetch_voicemail
from tests.telephony.conftest import inbound_sms_params, run_jobs_until_idle

pytestmark = pytest.mark.django_db

HOME = "+14155550100"  # in the US, like alice's number
ABROAD = "+442079460958"


def _forwarded(twilio, alice_number, sender: str) -> mail.EmailMessage:  # type: ignore[no-untyped-def]
    twilio("/webhooks/twilio/sms/", inbound_sms_params(alice_number.e164, sender=sender, body="See you at 6"))
    run_jobs_until_idle()
    [message] = mail.outbox
    assert "See you at 6" in message.body
    return message


def _dropped(alice, alice_number, sender: str) -> mail.EmailMessage:  # type: ignore[no-untyped-def]
    log = SmsLog.objects.create(
        user=alice,
        direction="in",
        message_sid=twilio_fake.new_sid("SM"),
        peer_number=sender,
        our_number=alice_number.e164,
        status="received",
        created_at=datetime(2026, 1, 15, 20, 5, tzinfo=UTC),
    )
    sms_not_forwarded({"log_id": log.pk})
    run_pending()
    [message] = mail.outbox
    return message


def _voicemail(alice, alice_number, sender: str) -> mail.EmailMessage:  # type: ignore[no-untyped-def]
    call_sid = twilio_fake.new_sid("CA")
    recording_sid, _url = twilio_fake.record_voicemail(twilio_api.account_sid(), call_sid, 7)
    voicemail = Voicemail.objects.create(
        user=alice, recording_sid=recording_sid, call_sid=call_sid, peer_number=sender, duration_s=7
    )
    fetch_voicemail({"voicemail_id": voicemail.pk})
    run_pending()
    [message] = mail.outbox
    assert "(7 seconds)" in message.body
    return message


def _no_raw_number(message: mail.EmailMessage, e164: str) -> None:
    assert e164 not in message.subject and e164 not in message.body


def test_a_forwarded_text_shows_the_senders_and_your_number_in_national_format(twilio, alice_number) -> None:
    message = _forwarded(twilio, alice_number, HOME)
    assert message.subject == "Text from (415) 555-0100"
    national = alice_number.e164.replace("+1", "", 1)
    ours = f"({national[:3]}) {national[3:6]}-{national[6:]}"
    assert message.body.startswith(f"Text from (415) 555-0100 to your NumFree number {ours}:\n\n")
    _no_raw_number(message, HOME)
    assert alice_number.e164 not in message.body


def test_a_forwarded_text_from_a_named_number_shows_the_name(twilio, alice, alice_number) -> None:
    name_number(alice, HOME, "Tom & Jerry's")
    message = _forwarded(twilio, alice_number, HOME)
    assert message.subject == "Text from Tom & Jerry's"
    assert message.body.startswith("Text from Tom & Jerry's at (415) 555-0100 to your NumFree number")
    assert "&amp;" not in message.body and "&#x27;" not in message.body  # plain text, not HTML


def test_a_forwarded_text_from_abroad_shows_the_international_format(twilio, alice_number) -> None:
    message = _forwarded(twilio, alice_number, ABROAD)
    assert message.subject == "Text from +44 20 7946 0958"
    assert message.body.startswith("Text from +44 20 7946 0958 to your NumFree number")
    _no_raw_number(message, ABROAD)


def test_the_dropped_text_email_shows_the_formatted_number(alice, alice_number) -> None:
    message = _dropped(alice, alice_number, HOME)
    assert message.subject == "A text from (415) 555-0100 could not be forwarded"
    assert message.body.startswith("A text from (415) 555-0100 (received 15 Jan 2026, 20:05 UTC)")
    assert "ask (415) 555-0100 to send it again" in message.body
    _no_raw_number(message, HOME)


def test_the_dropped_text_email_shows_the_name_and_abroad_the_international_format(alice, alice_number) -> None:
    name_number(alice, HOME, "Mom")
    message = _dropped(alice, alice_number, HOME)
    assert message.subject == "A text from Mom could not be forwarded"
    assert message.body.startswith("A text from Mom at (415) 555-0100 (received")
    assert "ask Mom to send it again" in message.body
    mail.outbox.clear()
    message = _dropped(alice, alice_number, ABROAD)
    assert message.subject == "A text from +44 20 7946 0958 could not be forwarded"
    _no_raw_number(message, ABROAD)


def test_the_voicemail_email_shows_the_formatted_number(alice, alice_number) -> None:
    message = _voicemail(alice, alice_number, HOME)
    assert message.subject == "New voicemail from (415) 555-0100"
    assert message.body.startswith("(415) 555-0100 left you a voicemail (7 seconds).")
    _no_raw_number(message, HOME)


def test_the_voicemail_email_shows_the_name_and_abroad_the_international_format(alice, alice_number) -> None:
    name_number(alice, HOME, "Mom")
    message = _voicemail(alice, alice_number, HOME)
    assert message.subject == "New voicemail from Mom"
    assert message.body.startswith("Mom at (415) 555-0100 left you a voicemail")
    mail.outbox.clear()
    message = _voicemail(alice, alice_number, ABROAD)
    assert message.subject == "New voicemail from +44 20 7946 0958"
    assert message.body.startswith("+44 20 7946 0958 left you a voicemail")
    _no_raw_number(message, ABROAD)


def test_without_a_numfree_number_every_number_is_international(alice) -> None:
    call_sid = twilio_fake.new_sid("CA")
    recording_sid, _url = twilio_fake.record_voicemail(twilio_api.account_sid(), call_sid, 7)
    voicemail = Voicemail.objects.create(
        user=alice, recording_sid=recording_sid, call_sid=call_sid, peer_number=HOME, duration_s=7
    )
    fetch_voicemail({"voicemail_id": voicemail.pk})
    run_pending()
    assert [message.subject for message in mail.outbox] == ["New voicemail from +1 415-555-0100"]
