"""While the database is down, an inbound text is spooled to disk (ciphertext only) and answered 200;
it is received once the database is back, exactly once."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core import mail
from django.db import OperationalError

from numfree.outbox.testing import run_pending
from telephony import forwarding, sms_spool, twilio_fake
from telephony.models import SmsLog
from tests.telephony.conftest import inbound_sms_params, run_jobs_until_idle

pytestmark = pytest.mark.django_db
SMS = "/webhooks/twilio/sms/"


@pytest.fixture(autouse=True)
def _spool_in_tmp(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.DATA_DIR = tmp_path / "data"


@pytest.fixture
def database_down(monkeypatch):  # type: ignore[no-untyped-def]
    """The database refuses every query receive_sms makes (as psycopg's errors reach Django)."""

    def refused(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(forwarding, "recipient_of", refused)
    return monkeypatch


def test_a_text_during_an_outage_is_answered_200_and_kept_as_ciphertext_only(twilio, alice_number, database_down):
    params = inbound_sms_params(alice_number.e164, body="Meet me at the north entrance")
    response = twilio(SMS, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    [spooled] = sms_spool.pending()
    assert spooled.name == f"{params['MessageSid']}.sms"
    content = spooled.read_bytes()
    for clear in (b"north entrance", alice_number.e164.encode(), b"+14155550100", b"SAN FRANCISCO"):
        assert clear not in content
    assert not SmsLog.objects.exists()


def test_the_next_text_after_the_outage_drains_the_spool_and_each_is_emailed_once(
    twilio, alice_number, database_down
) -> None:
    first = inbound_sms_params(alice_number.e164, body="sent during the outage")
    twilio(SMS, first)
    database_down.undo()
    second = inbound_sms_params(alice_number.e164, body="sent after it")
    assert twilio(SMS, second).status_code == 200
    assert sms_spool.pending() == []
    assert sms_spool.drain() == 0
    run_jobs_until_idle()
    assert len(mail.outbox) == 2
    assert "sent during the outage" in mail.outbox[0].body  # in the order received
    assert "sent after it" in mail.outbox[1].body
    assert not twilio_fake.exists("message", first["MessageSid"])


def test_a_spooled_text_is_received_once_even_if_drained_twice_or_redelivered(twilio, alice_number, database_down):
    params = inbound_sms_params(alice_number.e164)
    twilio(SMS, params)
    twilio(SMS, params)  # the same MessageSid again: one file
    assert len(sms_spool.pending()) == 1
    database_down.undo()
    path = sms_spool.pending()[0]
    token = path.read_bytes()
    assert sms_spool.drain() == 1
    path.write_bytes(token)  # as if a second process had read it before the first removed it
    assert sms_spool.drain() == 1
    twilio(SMS, params)
    run_jobs_until_idle()
    assert SmsLog.objects.count() == 1
    assert len(mail.outbox) == 1


def test_while_the_database_is_still_down_draining_keeps_the_file(twilio, alice_number, database_down) -> None:
    twilio(SMS, inbound_sms_params(alice_number.e164))
    with pytest.raises(sms_spool.DatabaseDown):
        sms_spool.drain()
    assert len(sms_spool.pending()) == 1


def test_a_crash_between_write_and_rename_leaves_no_half_file(alice_number, monkeypatch) -> None:
    params = inbound_sms_params(alice_number.e164)

    def crash(*args: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        sms_spool.write(params)
    monkeypatch.undo()
    assert list(sms_spool.directory().iterdir()) == []
    # A process killed mid-write leaves its temporary file: never read, removed once stale.
    part = sms_spool.directory() / ".half-written.part"
    part.write_bytes(b"gAAAA-half")
    assert sms_spool.drain() == 0
    assert part.exists()
    stale = time.time() - sms_spool.STALE_PART_SECONDS - 1
    os.utime(part, (stale, stale))
    assert sms_spool.drain() == 0
    assert not part.exists()
    assert not SmsLog.objects.exists()


def test_a_file_that_does_not_decrypt_is_set_aside(alice_number, settings) -> None:
    path = sms_spool.write(inbound_sms_params(alice_number.e164))
    settings.OUTBOX_KEYS = ["another key entirely"]
    assert sms_spool.drain() == 0
    assert sms_spool.pending() == []
    assert Path(str(path).removesuffix(".sms") + ".unreadable").exists()


def test_the_reconciliation_job_drains_the_spool(alice, alice_number) -> None:
    sms_spool.write(inbound_sms_params(alice_number.e164, body="drained by the worker"))
    run_pending(periodic=True)
    run_jobs_until_idle()
    assert sms_spool.pending() == []
    assert [m.to for m in mail.outbox] == [[alice.email]]


def test_a_spooled_text_that_fails_does_not_cost_the_text_arriving_now(twilio, alice_number, monkeypatch) -> None:
    stuck = inbound_sms_params(alice_number.e164, body="cannot be received yet")
    sms_spool.write(stuck)
    receive = forwarding.receive_sms

    def failing_for_the_spooled_one(params):  # type: ignore[no-untyped-def]
        if params["MessageSid"] == stuck["MessageSid"]:
            raise RuntimeError("a bug")
        receive(params)

    monkeypatch.setattr(forwarding, "receive_sms", failing_for_the_spooled_one)
    arriving = inbound_sms_params(alice_number.e164, body="arriving now")
    assert twilio(SMS, arriving).status_code == 200
    assert SmsLog.objects.filter(message_sid=arriving["MessageSid"]).exists()
    assert len(sms_spool.pending()) == 1  # kept for the worker
