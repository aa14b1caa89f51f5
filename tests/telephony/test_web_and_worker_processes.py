"""A real daphne web process and a real `manage.py worker` on the fake Twilio: a signed inbound text
posted over HTTP is emailed by the worker and deleted at the fake, whose state the processes share."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path

import pytest
import requests
from django.conf import settings
from twilio.request_validator import RequestValidator

from telephony import twilio_api, twilio_fake
from telephony.models import SmsLog
from tests.telephony.conftest import inbound_sms_params

DAPHNE = str(Path(sys.executable).parent / "daphne")
MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
WAIT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Processes:
    """daphne and one worker on the test database; always stopped by the fixture."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.port = _free_port()
        self.mail_dir = tmp / "mail"
        self.mail_dir.mkdir()
        self.tmp = tmp
        self.env = {
            **env,
            "NUMFREE_PUBLIC_URL": self.public_url,
            "EMAIL_BACKEND": "tests.telephony.mail_to_directory.DirectoryEmailBackend",
            "NUMFREE_TEST_MAIL_DIR": str(self.mail_dir),
            "NUMFREE_WORKER_POLL_SECONDS": "0.1",
            # Twilio answers 20009 to the first delete of a message still "receiving": retry soon.
            "NUMFREE_OUTBOX_BACKOFF_BASE_SECONDS": "0.2",
            "NUMFREE_OUTBOX_BACKOFF_MAX_SECONDS": "1",
        }
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = self.tmp / f"{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=self.env, stdout=output, stderr=subprocess.STDOUT
            )
        self.started.append((process, log))
        return process

    def start(self) -> None:
        web = self._start(
            "daphne",
            [
                DAPHNE,
                "-e",
                f"tcp:port={self.port}:interface=127.0.0.1",
                "--access-log",
                "/dev/null",
                "numfree.asgi:application",
            ],
        )
        self._start("worker", [sys.executable, MANAGE, "worker"])
        self.wait_for(lambda: self._listening(web), "daphne to listen")

    def _listening(self, web: subprocess.Popen[bytes]) -> bool:
        if web.poll() is not None:
            raise AssertionError(f"daphne exited with {web.returncode}:\n{self.output()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
            return True
        return False

    def output(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')}" for _, log in self.started if log.exists()
        )

    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {WAIT_SECONDS} s waiting for {what}:\n{self.output()}")
            for process, log in self.started:
                if process.poll() is not None:
                    raise AssertionError(f"{log.stem} exited with {process.returncode}:\n{self.output()}")
            time.sleep(0.1)

    def emails(self) -> list[Message]:
        return [
            message_from_bytes(raw, policy=default_policy)
            for path in sorted(self.mail_dir.iterdir())
            for raw in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n")
            if raw.strip()
        ]

    def stop(self) -> None:
        for process, _ in self.started:
            if process.poll() is None:
                process.terminate()
        for process, _ in self.started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def processes(subprocess_env, tmp_path) -> Iterator[Processes]:  # type: ignore[no-untyped-def]
    group = Processes(subprocess_env, tmp_path)
    try:
        group.start()
        yield group
    finally:
        group.stop()


def _post_signed(url: str, params: dict[str, str], signature: str | None = None) -> requests.Response:
    if signature is None:
        signature = RequestValidator(twilio_api.auth_token()).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=20)


@pytest.mark.django_db(transaction=True)
def test_a_text_posted_to_the_web_process_is_emailed_by_the_worker_and_deleted_at_the_fake(
    processes, alice, alice_number
) -> None:
    marker = uuid.uuid4().hex
    params = inbound_sms_params(alice_number.e164, sender="+14155550142", body=f"over the wire {marker}")
    sid = params["MessageSid"]
    url = processes.public_url + "/webhooks/twilio/sms/"

    forged = _post_signed(url, params, signature="not-twilio")
    assert forged.status_code == 403 and forged.json()["code"] == "signature_invalid"
    assert not SmsLog.objects.exists()

    response = _post_signed(url, params)
    assert response.status_code == 200, processes.output()
    assert response.headers["Content-Type"].startswith("text/xml")
    assert SmsLog.objects.filter(message_sid=sid, user=alice).exists()

    # The worker (another process) reads the message from the fake's table, then deletes it there.
    processes.wait_for(lambda: not twilio_fake.exists("message", sid), "the worker to delete the text at the fake")
    log = SmsLog.objects.get(message_sid=sid)
    assert log.forwarded_at is not None and log.deleted_at_twilio
    [email] = processes.emails()
    assert email["To"] == alice.email and email["Subject"] == "Text from (415) 555-0142"
    assert f"over the wire {marker}" in email.get_content()
