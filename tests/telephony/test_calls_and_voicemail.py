"""Calls to a NumFree number: TwiML routing, the call log, voicemail into private storage."""

from __future__ import annotations

import random

import pytest
from django.core import mail
from django.core.files.storage import default_storage

from telephony import twilio_api, twilio_fake
from telephony.models import BlockedNumber, CallLog, Forwarding, Voicemail
from tests.telephony.conftest import call_params, run_jobs_until_idle

pytestmark = pytest.mark.django_db


@pytest.fixture
def ringing_phone(alice):  # type: ignore[no-untyped-def]
    return Forwarding.objects.create(user=alice, phone="+14155550199", phone_verified=True)


def test_a_call_rings_the_verified_phone_with_the_callers_id(
    twilio, alice, alice_number, ringing_phone, settings
) -> None:
    response = twilio("/webhooks/twilio/voice/", call_params(alice_number.e164))
    assert response.status_code == 200
    twiml = response.content.decode()
    assert '<Dial action="http://127.0.0.1:8000/webhooks/twilio/voice/?step=dialed"' in twiml
    assert 'callerId="+14155550100"' in twiml
    assert f'timeout="{settings.RING_SECONDS}"' in twiml
    assert "<Number>+14155550199</Number>" in twiml
    log = CallLog.objects.get()
    assert (log.user, log.kind, log.direction, log.peer_number) == (alice, "phone", "in", "+14155550100")


def test_an_unverified_phone_is_never_rung(twilio, alice, alice_number) -> None:
    Forwarding.objects.create(user=alice, phone="+14155550199", phone_verified=False)
    twiml = twilio("/webhooks/twilio/voice/", call_params(alice_number.e164)).content.decode()
    assert "<Dial" not in twiml and "<Record" in twiml


def test_a_blocked_caller_is_rejected_and_logged_as_blocked(twilio, alice, alice_number, ringing_phone) -> None:
    BlockedNumber.objects.create(user=alice, number="+14155550100")
    twiml = twilio("/webhooks/twilio/voice/", call_params(alice_number.e164)).content.decode()
    assert '<Reject reason="rejected"' in twiml
    assert CallLog.objects.get().blocked


def test_do_not_disturb_goes_straight_to_the_greeting_and_a_bounded_recording(
    twilio, alice, alice_number, ringing_phone, settings
) -> None:
    Forwarding.objects.filter(user=alice).update(do_not_disturb=True, greeting="Alice is away, leave a message")
    twiml = twilio("/webhooks/twilio/voice/", call_params(alice_number.e164)).content.decode()
    assert "<Dial" not in twiml
    assert "<Say>Alice is away, leave a message</Say>" in twiml
    assert f'maxLength="{settings.VOICEMAIL_MAX_SECONDS}"' in twiml
    assert 'recordingStatusCallback="http://127.0.0.1:8000/webhooks/twilio/voicemail/"' in twiml


@pytest.mark.parametrize("outcome", ["no-answer", "busy", "failed"])
def test_an_unanswered_call_goes_to_the_default_greeting(
    twilio, alice_number, ringing_phone, outcome, settings
) -> None:
    params = call_params(alice_number.e164)
    twilio("/webhooks/twilio/voice/", params)
    twiml = twilio("/webhooks/twilio/voice/?step=dialed", {**params, "DialCallStatus": outcome}).content.decode()
    assert f"<Say>{settings.VOICEMAIL_DEFAULT_GREETING}</Say>" in twiml and "<Record" in twiml
    assert CallLog.objects.get().missed


def test_an_answered_call_ends_with_answer_time_and_duration(twilio, alice_number, ringing_phone) -> None:
    params = call_params(alice_number.e164)
    twilio("/webhooks/twilio/voice/", params)
    twiml = twilio(
        "/webhooks/twilio/voice/?step=dialed", {**params, "DialCallStatus": "completed", "DialCallDuration": "30"}
    ).content.decode()
    assert "<Hangup" in twiml
    twilio("/webhooks/twilio/voice/status/", {**params, "CallStatus": "completed", "CallDuration": "33"})
    log = CallLog.objects.get()
    assert log.answered_at is not None and not log.missed
    assert (log.status, log.duration_s, log.ended_at is not None) == ("completed", 33, True)


def test_call_status_only_moves_forward_whatever_the_arrival_order(twilio, alice_number, ringing_phone) -> None:
    for seed in range(6):
        params = call_params(alice_number.e164)
        twilio("/webhooks/twilio/voice/", params)
        sequence = ["initiated", "ringing", "in-progress", "completed"]
        random.Random(seed).shuffle(sequence)
        for status in sequence:
            twilio("/webhooks/twilio/voice/status/", {**params, "CallStatus": status, "CallDuration": "12"})
        log = CallLog.objects.get(external_id=params["CallSid"])
        assert log.status == "completed", sequence


def test_a_redelivered_call_webhook_logs_one_call(twilio, alice_number, ringing_phone) -> None:
    params = call_params(alice_number.e164)
    answers = {twilio("/webhooks/twilio/voice/", params).content for _ in range(5)}
    assert len(answers) == 1
    assert CallLog.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/webhooks/twilio/voice/", "/webhooks/twilio/voice/status/", "/webhooks/twilio/voicemail/"]
)
def test_forged_voice_webhooks_are_refused_with_no_row(twilio, alice_number, path) -> None:
    params = call_params(alice_number.e164, RecordingSid="RE" + "1" * 32, CallStatus="completed")
    response = twilio(path, params, signature="AAAA")
    assert response.status_code == 403
    assert not CallLog.objects.exists() and not Voicemail.objects.exists()


def _leave_voicemail(twilio, number: str, seconds: int = 5) -> tuple[dict[str, str], dict[str, str]]:  # type: ignore[no-untyped-def]
    call = call_params(number)
    twilio("/webhooks/twilio/voice/", call)
    recording_sid, url = twilio_fake.record_voicemail(twilio_api.account_sid(), call["CallSid"], seconds)
    recording = {
        "AccountSid": call["AccountSid"],
        "CallSid": call["CallSid"],
        "RecordingSid": recording_sid,
        "RecordingUrl": url,
        "RecordingStatus": "completed",
        "RecordingDuration": str(seconds),
        "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    }
    return call, recording


def test_a_voicemail_is_stored_privately_deleted_at_twilio_and_announced(twilio, alice, alice_number) -> None:
    _call, recording = _leave_voicemail(twilio, alice_number.e164)
    for _ in range(5):
        assert twilio("/webhooks/twilio/voicemail/", recording).status_code == 204
    run_jobs_until_idle()
    voicemail = Voicemail.objects.get()
    assert (voicemail.user, voicemail.duration_s, voicemail.peer_number) == (alice, 5, "+14155550100")
    assert default_storage.open(voicemail.audio.name).read().startswith(b"\xff\xfb")
    assert not twilio_fake.exists("recording", recording["RecordingSid"])
    notices = [message for message in mail.outbox if "voicemail" in message.subject.lower()]
    assert len(notices) == 1 and notices[0].to == [alice.email]
    assert "/dashboard/voicemail/" in notices[0].body


def test_a_recording_of_a_call_we_do_not_know_is_deleted_at_twilio(twilio) -> None:
    sid, url = twilio_fake.record_voicemail(twilio_api.account_sid(), "CA" + "2" * 32, 3)
    params = {"CallSid": "CA" + "2" * 32, "RecordingSid": sid, "RecordingUrl": url, "RecordingStatus": "completed"}
    assert twilio("/webhooks/twilio/voicemail/", params).status_code == 204
    run_jobs_until_idle()
    assert not Voicemail.objects.exists()
    assert not twilio_fake.exists("recording", sid)
