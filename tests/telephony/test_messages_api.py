"""/api/messages/: sending a text and listing texts, owner / other user / anonymous; the dashboard form
goes the same way; a sent text (and the phone code) is logged without its body and deleted at Twilio
once its status is final."""

from __future__ import annotations

import logging
import uuid

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from accounts.tokens import issue_pair
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending
from telephony import twilio_fake
from telephony.models import SmsLog
from tests.telephony.conftest import inbound_sms_params, run_jobs_until_idle
from tests.telephony.test_sms_never_stored import _everything_stored, _raw_database_bytes

pytestmark = pytest.mark.django_db
RECIPIENT = "+14155550123"


def _api(user) -> Client:  # type: ignore[no-untyped-def]
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_pair(user).access}")


def _send(client: Client, **fields: object):  # type: ignore[no-untyped-def]
    return client.post("/api/messages/", fields, content_type="application/json")


def _status(twilio, sid: str, status: str):  # type: ignore[no-untyped-def]
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC1", "To": RECIPIENT}
    return twilio("/webhooks/twilio/sms/status/", params)


def test_the_owner_sends_a_text_and_gets_its_metadata(alice, alice_number) -> None:
    response = _send(_api(alice), to=RECIPIENT, body="See you at eight")
    assert response.status_code == 201
    body = response.json()
    assert {"direction": "out", "peer": RECIPIENT, "our_number": alice_number.e164, "status": "queued"}.items() <= (
        body.items()
    )
    assert body["segments"] == 1 and body["created_at"]
    log = SmsLog.objects.get(pk=body["id"])
    assert log.user == alice and twilio_fake.exists("message", log.message_sid)


def test_a_long_text_counts_its_segments_and_a_north_american_number_may_omit_plus_one(alice, alice_number) -> None:
    response = _send(_api(alice), to="(415) 555-0123", body="x" * 400)
    assert response.status_code == 201
    assert response.json()["peer"] == RECIPIENT and response.json()["segments"] == 3


@pytest.mark.django_db(transaction=True)
def test_the_body_of_a_sent_text_is_nowhere_afterwards(twilio, alice, alice_number, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    marker = uuid.uuid4().hex
    response = _send(_api(alice), to=RECIPIENT, body=f"private-{marker} the door code is 4411")
    assert response.status_code == 201
    assert _status(twilio, SmsLog.objects.get().message_sid, "delivered").status_code == 204
    run_jobs_until_idle(rounds=4)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)") if connection.vendor == "sqlite" else None
    assert marker not in _everything_stored()
    assert marker.encode() not in _raw_database_bytes()
    assert marker not in caplog.text


def test_texts_list_newest_first_with_a_cursor_and_metadata_only(alice, alice_number) -> None:
    for index in range(55):
        params = inbound_sms_params(alice_number.e164, sender=f"+141555501{index:02d}", body="hello")
        SmsLog.objects.create(
            user=alice,
            direction="in",
            message_sid=params["MessageSid"],
            peer_number=params["From"],
            our_number=alice_number.e164,
            status="received",
        )
    client = _api(alice)
    _send(client, to=RECIPIENT, body="the newest")
    page = client.get("/api/messages/").json()
    assert len(page["results"]) == 50 and page["next"].startswith("http://testserver/api/messages/?cursor=")
    assert page["results"][0]["peer"] == RECIPIENT and page["results"][0]["direction"] == "out"
    assert "body" not in page["results"][0]
    rest = client.get(page["next"]).json()
    assert rest["next"] is None and len(rest["results"]) == 6
    everything = page["results"] + rest["results"]
    assert len({row["id"] for row in everything}) == 56
    assert [row["created_at"] for row in everything] == sorted((row["created_at"] for row in everything), reverse=True)


def test_another_user_sees_none_of_the_owners_texts_and_anonymous_gets_a_401(alice, bob, alice_number) -> None:
    _send(_api(alice), to=RECIPIENT, body="hi")
    assert _api(bob).get("/api/messages/").json() == {"results": [], "next": None}
    for response in (Client().get("/api/messages/"), _send(Client(), to=RECIPIENT, body="hi")):
        assert response.status_code == 401 and response.json()["code"] == "not_authenticated"
    assert SmsLog.objects.count() == 1


def test_a_user_without_a_number_gets_403_no_number_and_nothing_is_sent(bob) -> None:
    response = _send(_api(bob), to=RECIPIENT, body="hi")
    assert response.status_code == 403 and response.json()["code"] == "no_number"
    assert not SmsLog.objects.exists()


def test_a_number_on_hold_cannot_send_403_plan_required(alice, alice_number) -> None:
    from billing.models import BillingAccount

    BillingAccount.objects.filter(user=alice).update(status="canceled", ended_at=alice_number.bought_at)
    response = _send(_api(alice), to=RECIPIENT, body="hi")
    assert response.status_code == 403 and response.json()["code"] == "plan_required"
    assert not SmsLog.objects.exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"to": "12345", "body": "hi"}, "sms_to_invalid"),
        ({"body": "hi"}, "sms_to_invalid"),
        ({"to": RECIPIENT, "body": ""}, "sms_body_empty"),
        ({"to": RECIPIENT, "body": "   \n "}, "sms_body_empty"),
        ({"to": RECIPIENT}, "sms_body_empty"),
        ({"to": RECIPIENT, "body": "x" * 1601}, "sms_body_too_long"),
        ({"to": "+15005550001", "body": "hi"}, "sms_to_invalid"),  # Twilio: 21211
        ({"to": "+15005550009", "body": "hi"}, "sms_to_invalid"),  # Twilio: 21614, not a mobile
        ({"to": "+15005550004", "body": "hi"}, "sms_recipient_opted_out"),  # Twilio: 21610, replied STOP
        ({"to": ["+14155550123"], "body": "hi"}, "invalid"),
    ],
)
def test_a_bad_number_or_body_is_a_400_with_a_clear_code_and_nothing_is_logged(alice, alice_number, fields, code):  # type: ignore[no-untyped-def]
    response = _send(_api(alice), **fields)
    assert response.status_code == 400 and response.json()["code"] == code, response.json()
    assert not SmsLog.objects.exists()


def test_sending_is_rate_limited_per_account_across_the_api_and_the_dashboard(
    settings, alice, alice_client, alice_number, bob
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "send_sms_account": "3/h"}
    client = _api(alice)
    assert alice_client.post("/dashboard/messages/send/", {"to": RECIPIENT, "body": "one"}).status_code == 302
    assert _send(client, to=RECIPIENT, body="two").status_code == 201
    assert _send(client, to=RECIPIENT, body="three").status_code == 201
    limited = _send(client, to=RECIPIENT, body="four")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    assert SmsLog.objects.filter(user=alice).count() == 3
    # Bob's texts count against his own limit, not Alice's.
    assert _send(_api(bob), to=RECIPIENT, body="hi").json()["code"] == "no_number"


def test_the_dashboard_form_sends_through_the_same_checks(alice_client, alice, alice_number) -> None:
    page = alice_client.post("/dashboard/messages/send/", {"to": RECIPIENT, "body": "from the page"}, follow=True)
    assert "The text itself is not kept" in page.content.decode()
    assert SmsLog.objects.get().direction == "out"
    refused = alice_client.post("/dashboard/messages/send/", {"to": "+15005550004", "body": "hi"}, follow=True)
    assert "replied STOP" in refused.content.decode()
    assert SmsLog.objects.count() == 1


def test_status_callbacks_update_what_the_api_shows(twilio, alice, alice_number) -> None:
    client = _api(alice)
    sent = _send(client, to=RECIPIENT, body="hi").json()
    sid = SmsLog.objects.get(pk=sent["id"]).message_sid
    for status in ("sent", "queued", "delivered", "sending"):
        assert _status(twilio, sid, status).status_code == 204
    assert client.get("/api/messages/").json()["results"][0]["status"] == "delivered"


def test_a_sent_text_is_deleted_at_twilio_once_delivered_retrying_while_twilio_is_not_done(
    twilio, alice, alice_number
) -> None:
    sent = _send(_api(alice), to=RECIPIENT, body="hi").json()
    log = SmsLog.objects.get(pk=sent["id"])
    _status(twilio, log.message_sid, "sent")
    assert twilio_fake.exists("message", log.message_sid)  # not final yet: kept at Twilio
    assert not Job.objects.filter(kind="telephony.delete_message").exists()

    # Twilio is still busy with it when the first deletion comes: 20009, retried.
    twilio_fake.fail_requests(status=409, code=20009, method="DELETE", path="/Messages/", times=1)
    _status(twilio, log.message_sid, "delivered")
    _status(twilio, log.message_sid, "delivered")  # a redelivered callback queues no second delete
    assert Job.objects.filter(kind="telephony.delete_message").count() == 1
    run_pending()
    assert twilio_fake.exists("message", log.message_sid)
    assert Job.objects.get(kind="telephony.delete_message").attempts == 1
    run_jobs_until_idle(rounds=3)
    assert not twilio_fake.exists("message", log.message_sid)
    log.refresh_from_db()
    assert log.deleted_at_twilio and log.status == "delivered"


@pytest.mark.parametrize("status", ["undelivered", "failed"])
def test_an_undelivered_or_failed_text_is_deleted_at_twilio_too(twilio, alice, alice_number, status) -> None:
    sent = _send(_api(alice), to=RECIPIENT, body="hi").json()
    sid = SmsLog.objects.get(pk=sent["id"]).message_sid
    _status(twilio, sid, status)
    run_jobs_until_idle(rounds=3)
    assert not twilio_fake.exists("message", sid)
    assert SmsLog.objects.get(pk=sent["id"]).status == status


def test_a_received_texts_status_callback_does_not_delete_it_before_it_is_forwarded(twilio, alice, alice_number):  # type: ignore[no-untyped-def]
    params = inbound_sms_params(alice_number.e164)
    twilio("/webhooks/twilio/sms/", params)
    _status(twilio, params["MessageSid"], "delivered")
    assert not Job.objects.filter(kind="telephony.delete_message").exists()


def test_the_phone_verification_code_is_logged_as_a_sent_text_without_the_code(
    twilio, alice, alice_client, alice_number
) -> None:
    alice_client.post("/dashboard/forwarding/phone/", {"phone": "+14155550199"})
    log = SmsLog.objects.get()
    assert (log.user, log.direction, log.peer_number, log.our_number) == (
        alice,
        "out",
        "+14155550199",
        alice_number.e164,
    )
    assert "Your NumFree code" not in _everything_stored()
    _status(twilio, log.message_sid, "delivered")
    run_jobs_until_idle(rounds=3)
    assert not twilio_fake.exists("message", log.message_sid)
    assert mail.outbox == []
