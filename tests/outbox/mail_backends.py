"""Mail backends for the outbox tests: one that fails like an unreachable SMTP server, one that
records sends in a file so worker processes can be watched from the test."""

from __future__ import annotations

import json
import os
import smtplib
import time
from collections.abc import Sequence
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class FlakyBackend(LocmemBackend):
    """Raises SMTPException `failures_left` times, then delivers to django.core.mail.outbox."""

    failures_left = 0
    attempts = 0

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        FlakyBackend.attempts += 1
        if FlakyBackend.failures_left > 0:
            FlakyBackend.failures_left -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


class RefusingBackend(LocmemBackend):
    """A mail server that answers 550 for every recipient."""

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        raise smtplib.SMTPRecipientsRefused({"nobody@example.com": (550, b"no such user")})


def _append(path: str, record: dict) -> None:
    # O_APPEND: lines from several processes never overwrite each other.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (json.dumps(record) + "\n").encode())
    finally:
        os.close(fd)


class FileBackend(BaseEmailBackend):
    """For worker subprocesses, configured by environment variables.

    NUMFREE_TEST_MAIL_STARTED: a line per send as it starts; NUMFREE_TEST_MAIL_GATE:
    a send waits (at most 60 s) until this file exists; NUMFREE_TEST_MAIL_DELAY:
    seconds a send takes; NUMFREE_TEST_MAIL_LOG: a line per message delivered.
    """

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            record = {"subject": message.subject, "pid": os.getpid()}
            if started := os.environ.get("NUMFREE_TEST_MAIL_STARTED"):
                _append(started, {**record, "at": time.time()})
            if gate := os.environ.get("NUMFREE_TEST_MAIL_GATE"):
                deadline = time.monotonic() + 60
                while not Path(gate).exists():
                    if time.monotonic() > deadline:
                        raise TimeoutError("the test never opened the gate")
                    time.sleep(0.02)
            if delay := float(os.environ.get("NUMFREE_TEST_MAIL_DELAY", "0")):
                time.sleep(delay)
            _append(os.environ["NUMFREE_TEST_MAIL_LOG"], record)
        return len(messages)
