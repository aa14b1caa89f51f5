"""Fixtures of the two-factor tests: Alice with two-factor on, codes computed like an authenticator app."""

from __future__ import annotations

import re
from datetime import datetime

import pyotp
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from numfree.outbox.testing import run_pending
from tests.conftest import PASSWORD
from twofactor.testing import enable_two_factor


def code(secret: str, at: datetime | None = None, steps: int = 0) -> str:
    """What the app shows now (or at `at`), `steps` time steps later."""
    return pyotp.TOTP(secret).at(at or timezone.now(), counter_offset=steps)


def wrong_code(secret: str) -> str:
    """A 6-digit code that no step near now accepts."""
    near = {code(secret, steps=offset) for offset in range(-3, 4)}
    return next(candidate for candidate in (f"{n:06d}" for n in range(1000000)) if candidate not in near)


@pytest.fixture
def secret(alice) -> str:  # type: ignore[no-untyped-def]
    """Alice has two-factor sign-in on; this is her authenticator's secret."""
    return enable_two_factor(alice)


def password_step(client: Client, email: str = "alice@example.com", password: str = PASSWORD, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": email, "password": password, **extra})


def code_step(client: Client, value: str, **extra: str):  # type: ignore[no-untyped-def]
    return client.post("/login/two-factor/", {"code": value}, **extra)


def logged_in(client: Client) -> bool:
    return client.get("/dashboard/").status_code == 200


def emails_to(address: str) -> list[mail.EmailMessage]:
    run_pending()
    return [message for message in mail.outbox if address in message.to]


RECOVERY_CODE = re.compile(r"\b[2-9a-z]{4}-[2-9a-z]{4}-[2-9a-z]{4}\b")


def recovery_codes_on(page: str) -> list[str]:
    return RECOVERY_CODE.findall(page)
