"""The fake Twilio behaves like Twilio towards NumFree in the embedded mode: signed status
callbacks for texts and calls, a forwarded call that can be answered, and the texts NumFree
sent readable in the simulation panel (DEBUG only), so every flow can be finished offline."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from numfree.outbox.testing import run_pending
from telephony import twilio_api, twilio_fake, twilio_fake_callbacks
from telephony.models import CallLog, Forwarding, PhoneNumber, SmsLog, Voicemail
from tests.conftest import make_user
from tests.telephony.conftest import run_jobs_until_idle

pytestmark = pytest.mark.django_db
RECIPIENT = "+14155550177"
FORWARDING_PHONE = "+14155550199"


@pytest.fixture
def callbacks(monkeypatch) -> list[tuple[str, dict[str, str], str]]:  # type: ignore[no-untyped-def]
    """Every status callback the fake sends: (url, params, signature), still delivered to the app."""
    seen: list[tuple[str, dict[str, str], str]] = []
    deliver = twilio_fake_callbacks.transport

    def recording(url: str, body: bytes, headers: dict[str, str]) -> int:
        seen.append((url, dict(parse_qsl(body.decode())), headers["X-Twilio-Signature"]))
        return deliver(url, body, headers)

    monkeypatch.setattr(twilio_fake_callbacks, "transport", recording)
    return seen


def _code_from_the_panel(client: Client) -> str:
    page = client.get("/dashboard/simulate/sent/")
    assert page.status_code == 200
    found = re.search(r"Your NumFree code is (\d{6})", page.content.decode())
    assert found, "the code is not on the panel"
    return found[1]


def test_a_sent_text_goes_from_queued_to_delivered_through_signed_status_callbacks(
    alice_client, alice, alice_number, callbacks
) -> None:
    assert alice_client.post("/dashboard/messages/send/", {"to": RECIPIENT, "body": "on my way"}).status_code == 302
    log = SmsLog.objects.get()
    assert log.status == "queued"

    run_jobs_until_idle(rounds=4)

    assert [params["MessageStatus"] for _url, params, _sig in callbacks] == ["sent", "delivered"]
    for url, params, signature in callbacks:
        assert url == settings.PUBLIC_URL.rstrip("/") + "/webhooks/twilio/sms/status/"
        assert RequestValidator(twilio_api.auth_token()).validate(url, params, signature)
        assert params["MessageSid"] == log.message_sid and "Body" not in params
    log.refresh_from_db()
    assert log.status == "delivered"
    # Final: NumFree deleted it at Twilio, so the network no longer holds the words either.
    assert log.deleted_at_twilio and not twilio_fake.exists("message", log.message_sid)


def test_the_callbacks_reach_numfree_over_http_at_its_public_url(
    live_server, transactional_db, settings, monkeypatch
) -> None:
    from tests.telephony.conftest import give_plan

    settings.PUBLIC_URL = live_server.url
    monkeypatch.setattr(twilio_fake_callbacks, "transport", twilio_fake_callbacks._http_post)
    user = make_user("dora@example.com")
    give_plan(user)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country="US")
    client = Client()
    client.force_login(user)
    client.post("/dashboard/messages/send/", {"to": RECIPIENT, "body": "over the wire"})

    run_jobs_until_idle(rounds=4)

    log = SmsLog.objects.get()
    assert (log.status, log.deleted_at_twilio) == ("delivered", True)


def test_the_forwarding_phone_is_confirmed_with_the_code_read_in_the_panel_then_a_call_is_answered(
    alice_client, alice, alice_number, settings
) -> None:
    settings.DEBUG = True
    response = alice_client.post("/dashboard/forwarding/phone/", {"phone": FORWARDING_PHONE}, follow=True)
    assert "We texted a six-digit code" in response.content.decode()
    assert "the texts your number sent" in response.content.decode()

    code = _code_from_the_panel(alice_client)
    confirmed = alice_client.post("/dashboard/forwarding/phone/confirm/", {"code": code}, follow=True)
    assert "Confirmed: calls to your NumFree number now ring that phone." in confirmed.content.decode()
    assert Forwarding.objects.get(user=alice).ring_phone() == FORWARDING_PHONE

    answered = alice_client.post(
        "/dashboard/simulate/", {"event": "call-answered", "sender": "+14155550100"}, follow=True
    )
    assert "your forwarding phone answered it" in answered.content.decode()
    run_jobs_until_idle(rounds=3)
    call = CallLog.objects.get()
    assert not call.missed and call.answered_at is not None
    assert (call.status, call.duration_s) == ("completed", 45)
    assert not Voicemail.objects.exists()


def test_without_a_confirmed_phone_the_panel_says_calls_go_to_voicemail(alice_client, alice_number, settings) -> None:
    settings.DEBUG = True
    page = alice_client.get("/dashboard/simulate/").content.decode()
    assert "No forwarding phone is confirmed yet, so every call goes to voicemail." in page


def test_a_call_left_ringing_reports_its_end_through_the_status_callback(
    alice_client, alice, alice_number, settings, callbacks
) -> None:
    settings.DEBUG = True
    alice_client.post("/dashboard/simulate/", {"event": "call-voicemail", "sender": "+14155550100"})
    assert CallLog.objects.get().status != "completed"  # Twilio reports the end afterwards
    run_jobs_until_idle(rounds=3)
    call = CallLog.objects.get()
    assert call.missed and call.status == "completed" and call.duration_s == 10
    [(url, params, _signature)] = [c for c in callbacks if "CallStatus" in c[1]]
    assert url == settings.PUBLIC_URL.rstrip("/") + "/webhooks/twilio/voice/status/"
    assert params["CallStatus"] == "completed"


def test_the_sent_texts_panel_shows_only_the_users_own_texts_and_only_in_debug(
    alice_client, alice, alice_number, bob, settings
) -> None:
    settings.DEBUG = True
    alice_client.post("/dashboard/messages/send/", {"to": RECIPIENT, "body": "for alice's eyes"})
    assert "for alice&#x27;s eyes" in alice_client.get("/dashboard/simulate/sent/").content.decode()

    bob_client = Client()
    bob_client.force_login(bob)
    assert "alice" not in bob_client.get("/dashboard/simulate/sent/").content.decode().lower()
    assert Client().get("/dashboard/simulate/sent/").status_code == 302

    settings.DEBUG = False
    assert alice_client.get("/dashboard/simulate/sent/").status_code == 404


def test_a_delivered_text_stays_on_the_simulated_phone_after_numfree_deleted_it_at_twilio_for_an_hour(
    alice_client, alice_number, settings
) -> None:
    settings.DEBUG = True
    alice_client.post("/dashboard/messages/send/", {"to": RECIPIENT, "body": "read me later"})
    run_jobs_until_idle(rounds=4)
    log = SmsLog.objects.get()
    assert log.deleted_at_twilio and not twilio_fake.exists("message", log.message_sid)
    page = alice_client.get("/dashboard/simulate/sent/").content.decode()
    assert "read me later" in page and "delivered" in page

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        alice_client.force_login(alice_number.user)
        page = alice_client.get("/dashboard/simulate/sent/").content.decode()
    assert "read me later" not in page and "No text from your number in the last hour." in page


def test_the_simulated_phones_forget_a_number_s_texts_when_it_is_released(alice_client, alice_number) -> None:
    alice_client.post("/dashboard/messages/send/", {"to": RECIPIENT, "body": "until release"})
    run_jobs_until_idle(rounds=4)
    assert twilio_fake.sent_texts(alice_number.e164)
    twilio_api.release_number(alice_number.twilio_sid)
    assert twilio_fake.sent_texts(alice_number.e164) == []


def test_routine_retries_of_a_message_twilio_is_still_handling_are_not_warnings(
    twilio, alice, alice_number, caplog
) -> None:
    from telephony import sending

    log = sending.send_text(alice, RECIPIENT, "hi")
    twilio_fake.fail_requests(status=409, code=20009, method="DELETE", path="/Messages/", times=2)
    from numfree.outbox import enqueue

    enqueue("telephony.delete_message", {"sid": log.message_sid}, dedupe_key=f"delete-message:{log.message_sid}")
    with caplog.at_level(logging.INFO):
        run_pending()
    retries = [r for r in caplog.records if "20009" in r.getMessage() or "NotYetDeletable" in r.getMessage()]
    assert retries, "the retry is still logged"
    assert all(record.levelno == logging.INFO for record in retries)
