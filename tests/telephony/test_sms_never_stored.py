"""Mail down for 100 texts: none is lost, and afterwards no body is found anywhere."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.utils import timezone

from numfree.outbox.testing import run_pending
from telephony import twilio_fake
from telephony.models import SmsLog
from tests.telephony.conftest import inbound_sms_params, run_jobs_until_idle


class MailServerDown(BaseEmailBackend):
    def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("SMTP server is down")


def _everything_stored() -> str:
    """Every row of every table, as text."""
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            dump.append(repr(cursor.fetchall()))
    return "\n".join(dump)


def _raw_database_bytes() -> bytes:
    if connection.vendor != "sqlite":
        return b""
    path = Path(connection.settings_dict["NAME"])
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.mark.django_db(transaction=True)
def test_mail_down_for_100_texts_loses_none_and_leaves_no_body_anywhere(
    twilio, alice, alice_number, settings, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.EMAIL_BACKEND = "tests.telephony.test_sms_never_stored.MailServerDown"
    marker = uuid.uuid4().hex
    bodies = [f"private-{marker}-{index:03d} meet me at the usual place" for index in range(100)]
    sids = []
    for body in bodies:
        params = inbound_sms_params(alice_number.e164, body=body)
        sids.append(params["MessageSid"])
        assert twilio("/webhooks/twilio/sms/", params).status_code == 200
    run_jobs_until_idle(rounds=4)
    assert mail.outbox == []
    assert SmsLog.objects.filter(forwarded_at__isnull=True).count() == 100

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    run_jobs_until_idle(rounds=6, step_minutes=65)
    delivered = sorted(message.body.split("\n\n")[1].strip() for message in mail.outbox)
    assert delivered == sorted(bodies)
    assert not any(twilio_fake.exists("message", sid) for sid in sids)

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)") if connection.vendor == "sqlite" else None
    assert marker not in _everything_stored()
    assert marker.encode() not in _raw_database_bytes()
    assert marker not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_text_undeliverable_past_the_limit_is_dropped_and_the_user_told(
    twilio, alice, alice_number, settings, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    settings.EMAIL_BACKEND = "tests.telephony.test_sms_never_stored.MailServerDown"
    marker = uuid.uuid4().hex
    params = inbound_sms_params(alice_number.e164, sender="+14155550177", body=f"lost-{marker}")
    twilio("/webhooks/twilio/sms/", params)
    run_pending()
    with time_machine.travel(timezone.now() + timedelta(hours=settings.SMS_UNDELIVERABLE_HOURS, minutes=5), tick=True):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        run_jobs_until_idle(rounds=3)
    assert [message.subject for message in mail.outbox] == ["A text from (415) 555-0177 could not be forwarded"]
    assert mail.outbox[0].to == [alice.email]
    log = SmsLog.objects.get()
    assert log.dropped and log.forwarded_at is None
    assert not twilio_fake.exists("message", params["MessageSid"])
    assert marker not in _everything_stored()
    assert marker.encode() not in _raw_database_bytes()
    assert marker not in caplog.text
