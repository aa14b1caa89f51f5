"""Reconciliation: texts Twilio holds that no webhook delivered are received, once, then deleted there."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from telephony import reconcile, twilio_api, twilio_fake
from telephony.models import SmsLog
from tests.telephony.conftest import inbound_sms_params, run_jobs_until_idle

pytestmark = pytest.mark.django_db


def _arrives_without_webhook(number: str, body: str, sender: str = "+14155550100") -> str:
    sid, _urls = twilio_fake.receive_message(twilio_api.account_sid(), sender, number, body=body)
    return sid


def _inbound_left() -> int:
    from numfree import fake_store

    return len(fake_store.find("twilio", "message", direction="inbound"))


def test_a_text_whose_webhook_never_came_is_emailed_once_and_deleted_at_twilio(alice, alice_number) -> None:
    sid = _arrives_without_webhook(alice_number.e164, "the webhook was lost")
    assert reconcile.reconcile_number(alice_number) == 1
    assert reconcile.reconcile_number(alice_number) == 0  # already received: nothing again
    run_jobs_until_idle()
    assert [m.to for m in mail.outbox] == [[alice.email]]
    assert "the webhook was lost" in mail.outbox[0].body
    assert SmsLog.objects.get().message_sid == sid
    assert _inbound_left() == 0


def test_a_text_the_webhook_delivered_is_not_received_again(twilio, alice_number) -> None:
    params = inbound_sms_params(alice_number.e164, body="came by webhook")
    assert twilio("/webhooks/twilio/sms/", params).status_code == 200
    assert reconcile.reconcile_number(alice_number) == 0
    run_jobs_until_idle()
    assert len(mail.outbox) == 1
    assert SmsLog.objects.count() == 1


def test_the_high_water_mark_moves_and_the_overlap_still_catches_a_late_text(alice_number) -> None:
    start = timezone.now()
    with time_machine.travel(start - timedelta(hours=2), tick=False):
        alice_number.bought_at = timezone.now() - timedelta(days=1)
        alice_number.save()
        old = _arrives_without_webhook(alice_number.e164, "before the last check")
    with time_machine.travel(start - timedelta(minutes=2), tick=False):
        late = _arrives_without_webhook(alice_number.e164, "filed just before the last check")
    alice_number.texts_checked_until = start - timedelta(minutes=1)
    alice_number.save()
    with time_machine.travel(start, tick=False):
        assert reconcile.reconcile_number(alice_number) == 1
    assert list(SmsLog.objects.values_list("message_sid", flat=True)) == [late]
    assert twilio_fake.exists("message", old)  # older than the mark and its overlap: not listed
    alice_number.refresh_from_db()
    assert alice_number.texts_checked_until == start


def test_every_page_of_a_long_backlog_is_received_oldest_first(alice_number) -> None:
    sids = [_arrives_without_webhook(alice_number.e164, f"backlog {index}") for index in range(130)]
    http = twilio_api.client().http_client
    http.requests.clear()
    assert reconcile.reconcile_number(alice_number) == 130
    lists = [request for request in http.requests if request[0] == "GET" and request[1] == "Messages.json"]
    assert len(lists) == 2  # pages of 100, the second reached through next_page_uri
    assert list(SmsLog.objects.order_by("pk").values_list("message_sid", flat=True)) == sids


def test_texts_we_sent_and_texts_to_other_numbers_are_left_alone(alice_number) -> None:
    twilio_api.send_sms(alice_number.e164, "+14155550177", "an outgoing text")
    twilio_fake.receive_message(twilio_api.account_sid(), "+14155550100", "+14155559999", body="not ours")
    assert reconcile.reconcile_number(alice_number) == 0
    assert not SmsLog.objects.exists()


def test_while_twilio_is_unreachable_the_mark_stays_and_the_next_run_catches_up(alice_number) -> None:
    _arrives_without_webhook(alice_number.e164, "during a Twilio outage")
    twilio_fake.fail_requests(status=503, method="GET", path=r"/Messages\.json$")
    with pytest.raises(twilio_api.TwilioUnreachable):
        reconcile.reconcile_number(alice_number)
    alice_number.refresh_from_db()
    assert alice_number.texts_checked_until is None
    twilio_fake.recover()
    assert reconcile.reconcile_number(alice_number) == 1


def test_the_periodic_job_reconciles_every_number(alice, alice_number) -> None:
    from numfree.outbox.testing import run_pending

    _arrives_without_webhook(alice_number.e164, "picked up by the worker")
    run_pending(periodic=True)
    run_jobs_until_idle()
    assert len(mail.outbox) == 1
    assert _inbound_left() == 0


def test_an_mms_whose_webhook_never_came_arrives_with_its_attachments(alice_number) -> None:
    twilio_fake.receive_message(
        twilio_api.account_sid(), "+14155550100", alice_number.e164, [(b"GIF89a-lost", "image/gif")], body="a photo"
    )
    assert reconcile.reconcile_number(alice_number) == 1
    run_jobs_until_idle()
    [email] = mail.outbox
    assert "a photo" in email.body
    assert [(name, content) for name, content, _type in email.attachments] == [("attachment-1.gif", b"GIF89a-lost")]
    assert twilio_fake.count("media") == 0 and _inbound_left() == 0


def test_one_number_twilio_refuses_to_list_does_not_stop_the_others(alice, alice_number, bob) -> None:
    from telephony.models import PhoneNumber
    from tests.telephony.conftest import give_plan

    give_plan(bob)
    bought = twilio_api.buy_number(twilio_api.search_numbers("US", "415")[0].e164)
    bob_number = PhoneNumber.objects.create(user=bob, e164=bought.e164, twilio_sid=bought.sid, country="US")
    _arrives_without_webhook(bob_number.e164, "for bob")
    twilio_fake.fail_requests(status=503, method="GET", path=r"/Messages\.json$", times=1)  # alice's list only
    with pytest.raises(twilio_api.TwilioUnreachable):
        reconcile.reconcile_texts({})
    assert SmsLog.objects.get().user == bob


def test_a_list_cut_at_the_limit_keeps_the_mark_so_older_texts_come_next_time(alice_number, monkeypatch) -> None:
    monkeypatch.setattr(twilio_api, "INBOUND_LIST_LIMIT", 3)
    for index in range(5):
        _arrives_without_webhook(alice_number.e164, f"backlog {index}")
    assert reconcile.reconcile_number(alice_number) == 3  # the newest three
    alice_number.refresh_from_db()
    assert alice_number.texts_checked_until is None
    run_jobs_until_idle()  # forwarded and deleted at Twilio
    assert reconcile.reconcile_number(alice_number) == 2
    alice_number.refresh_from_db()
    assert alice_number.texts_checked_until is not None
    assert SmsLog.objects.count() == 5
