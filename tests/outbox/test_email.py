"""Email goes through the outbox: rendered when queued, sent by the worker, retried until delivered, never twice."""

from __future__ import annotations

import logging

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from numfree.mail import queue_email, render_email
from numfree.outbox.models import Job
from numfree.outbox.testing import run_pending
from tests.outbox.mail_backends import FlakyBackend

AUDIO = bytes(range(256)) * 40  # every byte value, as in an MP3 voicemail


@pytest.fixture
def flaky_smtp(settings) -> type[FlakyBackend]:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.outbox.mail_backends.FlakyBackend"
    FlakyBackend.failures_left = 0
    FlakyBackend.attempts = 0
    return FlakyBackend


@pytest.mark.django_db
def test_no_email_leaves_before_the_worker_runs_then_exactly_one_does():
    with transaction.atomic():
        queue_email("alice@example.com", "Confirm your address", "outbox_tests/plain.txt", {"line": "hello"})

    assert mail.outbox == []
    assert run_pending() == 1
    assert [(m.to, m.subject, m.body) for m in mail.outbox] == [
        (["alice@example.com"], "Confirm your address", "hello\n")
    ]


@pytest.mark.django_db
def test_an_email_whose_send_fails_is_retried_and_delivered_exactly_once(flaky_smtp, time_machine, caplog):
    caplog.set_level(logging.INFO, logger="numfree.outbox")
    flaky_smtp.failures_left = 3
    time_machine.move_to("2030-01-01 12:00Z", tick=False)
    job_id = queue_email("alice@example.com", "Your voicemail", "outbox_tests/plain.txt", {"line": "SECRET-LINE"})

    for _ in range(3):
        assert run_pending() == 1
        assert mail.outbox == []
        row = Job.objects.get(pk=job_id)
        assert row.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
        time_machine.move_to(row.run_at, tick=False)
    assert run_pending() == 1

    assert len(mail.outbox) == 1
    assert not Job.objects.filter(pk=job_id).exists()
    time_machine.move_to("2030-01-02 12:00Z", tick=False)
    assert run_pending() == 0
    assert len(mail.outbox) == 1
    assert flaky_smtp.attempts == 4
    assert "alice@example.com" not in caplog.text and "SECRET-LINE" not in caplog.text


@pytest.mark.django_db
def test_a_mail_server_refusing_every_recipient_is_not_retried(settings):
    settings.EMAIL_BACKEND = "tests.outbox.mail_backends.RefusingBackend"
    job_id = queue_email("nobody@example.com", "Hi", "outbox_tests/plain.txt", {"line": "x"})

    assert run_pending() == 1
    row = Job.objects.get(pk=job_id)
    assert row.failed_at is not None and row.payload is None
    assert row.last_error == "PermanentFailure: the mail server refused every recipient"


@pytest.mark.django_db
def test_attachments_and_the_html_alternative_arrive_as_they_were_given():
    queue_email(
        to=["alice@example.com"],
        subject="New voicemail\nfrom +15551234567",
        template="outbox_tests/hello.txt",
        context={"name": "Alice & Bob", "line": "<b>listen</b>"},
        attachments=[("voicemail.mp3", AUDIO, "audio/mpeg"), ("notes.txt", "é".encode(), "text/plain")],
    )
    run_pending()

    [message] = mail.outbox
    assert message.subject == "New voicemail from +15551234567"
    assert message.body == "Hello Alice & Bob,\n\n<b>listen</b>\n"  # plain text is not HTML-escaped
    assert message.alternatives[0].mimetype == "text/html"
    assert "Alice &amp; Bob" in message.alternatives[0].content
    assert "&lt;b&gt;listen&lt;/b&gt;" in message.alternatives[0].content
    assert message.attachments[0] == ("voicemail.mp3", AUDIO, "audio/mpeg")
    assert message.attachments[1] == ("notes.txt", "é", "text/plain")
    assert message.extra_headers["Message-ID"].endswith("@numfree.com>")
    assert b"voicemail.mp3" in message.message().as_bytes()


@pytest.mark.django_db
def test_a_message_sent_again_after_a_crash_keeps_its_message_id(settings, time_machine):
    time_machine.move_to("2030-01-01 12:00Z", tick=False)
    queue_email("alice@example.com", "Hi", "outbox_tests/plain.txt", {"line": "x"})
    stored = Job.objects.get()
    run_pending()
    # The worker sent it but died before deleting the row: the row comes back.
    Job.objects.bulk_create([Job(kind="mail.send", payload=stored.payload, run_at=timezone.now())])
    run_pending()
    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]


@pytest.mark.django_db
def test_a_bad_recipient_or_attachment_is_refused_when_queued():
    with pytest.raises(ValueError, match="recipient 1 is not an email address"):
        queue_email("not an address", "Hi", "outbox_tests/plain.txt", {"line": "x"})
    with pytest.raises(ValueError):
        queue_email([], "Hi", "outbox_tests/plain.txt", {"line": "x"})
    with pytest.raises(TypeError):
        queue_email("a@example.com", "Hi", "outbox_tests/plain.txt", {}, attachments=[("a.txt", "str", "text/plain")])
    assert Job.objects.count() == 0


def test_a_job_can_render_the_same_message_to_send_it_itself():
    message = render_email("alice@example.com", "Hi", "outbox_tests/hello.txt", {"name": "A", "line": "l"})
    assert message.to == ["alice@example.com"]
    assert message.alternatives[0].mimetype == "text/html"
