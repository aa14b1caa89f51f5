"""Texts to a NumFree number: signed webhooks, forwarded by email, never stored, deleted at Twilio."""

from __future__ import annotations

import random

import pytest
from django.core import mail

from numfree.outbox.testing import run_pending
from telephony import twilio_fake
from telephony.models import BlockedNumber, Forwarding, SmsLog
from tests.telephony.conftest import inbound_sms_params, run_jobs_until_idle

pytestmark = pytest.mark.django_db


def test_a_text_is_emailed_to_the_account_and_deleted_at_twilio(twilio, alice, alice_number) -> None:
    params = inbound_sms_params(alice_number.e164, body="See you at 6")
    response = twilio("/webhooks/twilio/sms/", params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    log = SmsLog.objects.get()
    assert (log.user, log.peer_number, log.direction, log.segments) == (alice, "+14155550100", "in", 1)
    run_jobs_until_idle()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [alice.email]
    assert "See you at 6" in mail.outbox[0].body
    assert not twilio_fake.exists("message", params["MessageSid"])
    log.refresh_from_db()
    assert log.forwarded_at is not None and log.deleted_at_twilio


def test_mms_media_arrive_as_attachments_and_are_deleted_at_twilio(twilio, alice_number) -> None:
    params = inbound_sms_params(alice_number.e164, media=2)
    twilio("/webhooks/twilio/sms/", params)
    run_jobs_until_idle()
    assert [name for name, _content, _type in mail.outbox[0].attachments] == ["attachment-1.gif", "attachment-2.gif"]
    assert SmsLog.objects.get().media_count == 2
    assert not twilio_fake.exists("message", params["MessageSid"])
    assert twilio_fake.count("media") == 0


@pytest.mark.parametrize("signature", ["", "bm90IGEgc2lnbmF0dXJl", None])
def test_a_forged_or_missing_signature_is_refused_and_nothing_happens(twilio, alice_number, signature) -> None:
    params = inbound_sms_params(alice_number.e164)
    if signature is None:  # signed, then tampered with
        from telephony import twilio_api

        signature = twilio_api.signature_for("http://127.0.0.1:8000/webhooks/twilio/sms/", params)
        params["Body"] = "tampered"
    response = twilio("/webhooks/twilio/sms/", params, signature=signature)
    assert response.status_code == 403
    assert response.json()["code"] == "signature_invalid"
    assert not SmsLog.objects.exists()
    assert run_pending() == 0


def test_a_signature_for_another_url_is_refused(twilio, alice_number, settings) -> None:
    params = inbound_sms_params(alice_number.e164)
    from telephony import twilio_api

    signature = twilio_api.signature_for(settings.PUBLIC_URL + "/webhooks/twilio/voice/", params)
    assert twilio("/webhooks/twilio/sms/", params, signature=signature).status_code == 403
    assert not SmsLog.objects.exists()


def test_a_redelivered_text_is_logged_and_emailed_once(twilio, alice_number) -> None:
    params = inbound_sms_params(alice_number.e164)
    for _ in range(5):
        assert twilio("/webhooks/twilio/sms/", params).status_code == 200
    run_pending()
    for _ in range(5):
        assert twilio("/webhooks/twilio/sms/", params).status_code == 200
    run_pending()
    assert SmsLog.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_blocked_sender_is_logged_as_blocked_and_not_forwarded(twilio, alice, alice_number) -> None:
    BlockedNumber.objects.create(user=alice, number="+14155550100")
    params = inbound_sms_params(alice_number.e164)
    twilio("/webhooks/twilio/sms/", params)
    run_jobs_until_idle()
    assert SmsLog.objects.get().blocked
    assert mail.outbox == []
    assert not twilio_fake.exists("message", params["MessageSid"])


def test_texts_go_to_the_forwarding_email_only_once_it_is_verified(twilio, alice, alice_number) -> None:
    Forwarding.objects.create(user=alice, email="alice.inbox@example.net", email_verified=False)
    twilio("/webhooks/twilio/sms/", inbound_sms_params(alice_number.e164))
    run_pending()
    assert mail.outbox[-1].to == [alice.email]
    Forwarding.objects.filter(user=alice).update(email_verified=True)
    twilio("/webhooks/twilio/sms/", inbound_sms_params(alice_number.e164))
    run_pending()
    assert mail.outbox[-1].to == ["alice.inbox@example.net"]


def test_a_text_for_a_number_nobody_holds_is_deleted_at_twilio_and_not_logged(twilio) -> None:
    params = inbound_sms_params("+14155559999")
    assert twilio("/webhooks/twilio/sms/", params).status_code == 200
    run_jobs_until_idle()
    assert not SmsLog.objects.exists()
    assert not twilio_fake.exists("message", params["MessageSid"])


def test_unknown_extra_parameters_are_accepted(twilio, alice_number) -> None:
    params = {**inbound_sms_params(alice_number.e164), "SomethingTwilioAddsLater": "x", "MessagingServiceSid": "MG1"}
    assert twilio("/webhooks/twilio/sms/", params).status_code == 200
    assert SmsLog.objects.count() == 1


def test_location_fields_are_stored_nowhere(twilio, alice_number) -> None:
    twilio("/webhooks/twilio/sms/", inbound_sms_params(alice_number.e164))
    run_pending()
    stored = str(list(SmsLog.objects.values()))
    assert "SAN FRANCISCO" not in stored and "94105" not in stored


def test_sent_text_status_only_moves_forward_whatever_the_arrival_order(twilio, alice, alice_number) -> None:
    from telephony.sending import send_text

    sequence = ["queued", "sending", "sent", "delivered"]
    for seed in range(6):
        log = send_text(alice, "+14155550123", "hi")
        shuffled = sequence[:]
        random.Random(seed).shuffle(shuffled)
        for status in shuffled:
            params = {"MessageSid": log.message_sid, "MessageStatus": status, "AccountSid": "AC1", "To": "+14155550123"}
            assert twilio("/webhooks/twilio/sms/status/", params).status_code == 204
        log.refresh_from_db()
        assert log.status == "delivered", shuffled


def test_a_forged_status_callback_changes_nothing(twilio, alice, alice_number) -> None:
    from telephony.sending import send_text

    log = send_text(alice, "+14155550123", "hi")
    params = {"MessageSid": log.message_sid, "MessageStatus": "failed"}
    assert twilio("/webhooks/twilio/sms/status/", params, signature="forged").status_code == 403
    log.refresh_from_db()
    assert log.status == "queued"


def test_a_number_on_hold_logs_texts_but_forwards_none(twilio, alice, alice_number) -> None:
    from billing.models import BillingAccount

    BillingAccount.objects.filter(user=alice).update(status="canceled", ended_at=alice_number.bought_at)
    params = inbound_sms_params(alice_number.e164)
    twilio("/webhooks/twilio/sms/", params)
    run_jobs_until_idle()
    assert SmsLog.objects.get().dropped
    assert mail.outbox == []
    assert not twilio_fake.exists("message", params["MessageSid"])
