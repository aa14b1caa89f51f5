"""Shared fixtures: alice, bob and charlie (owner / other user / anonymous), and
the rule for tests that need PostgreSQL, Redis or Chromium: skipped with a
printed reason on a bare machine, a failure when CI=true."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import hypothesis
import pytest
from django.conf import settings
from django.core.cache import cache

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Property-based tests: CI runs the same examples every time ("ci": derandomized,
# a fixed count, no per-example deadline on a busy 2-core machine); locally
# "dev" explores new ones. HYPOTHESIS_PROFILE picks either explicitly.
hypothesis.settings.register_profile(
    "ci", derandomize=True, max_examples=50, deadline=None, database=None, print_blob=True
)
hypothesis.settings.register_profile("dev", max_examples=50, deadline=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev"))


def pytest_report_header(config: pytest.Config) -> str:
    return f"hypothesis profile: {hypothesis.settings.get_current_profile_name()}"


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def _missing(marker: str) -> str | None:
    """Why a test with this marker cannot run here, or None when it can."""
    if marker == "postgres":
        if not settings.DATABASE_IS_POSTGRES:
            return "needs DATABASE_URL=postgres://... (runs in .ci/run's PostgreSQL pass)"
        return None  # an unreachable configured database fails loudly by itself
    if marker == "redis":
        if not settings.REDIS_URL:
            return "needs REDIS_URL=redis://... (runs in .ci/run's Redis pass)"
        if not _reachable(settings.REDIS_URL, 6379):
            return f"REDIS_URL is set but Redis does not answer at {settings.REDIS_URL}"
        return None
    if marker == "browser":
        if not shutil.which("chromium") and not os.path.exists("/usr/bin/chromium"):
            return "needs Debian's chromium (apt-get install chromium)"
        return None
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in ("postgres", "redis", "browser"):
            if item.get_closest_marker(marker) is None:
                continue
            reason = _missing(marker)
            if reason is None:
                continue
            configured_elsewhere = marker in {"postgres", "redis"} and reason.startswith("needs ")
            if IN_CI and not configured_elsewhere:
                item.user_properties.append(("missing_service", reason))
                item.add_marker(pytest.mark.usefixtures("_fail_in_ci"))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _fail_in_ci(request: pytest.FixtureRequest) -> None:
    reasons = [value for key, value in request.node.user_properties if key == "missing_service"]
    pytest.fail(f"CI=true and a required service is missing: {'; '.join(reasons)}")


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Rate-limit counters live in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _private_files(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": tmp_path / "private"}},
    }
    settings.PRIVATE_FILES_DIR = tmp_path / "private"


@pytest.fixture(autouse=True)
def _fresh_fakes(tmp_path, settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The fake Twilio and Stripe keep their state in their own store: a new one for each test."""
    from numfree import fake_store

    settings.FAKES_DB = tmp_path / "fakes.sqlite3"
    yield
    fake_store.close()


@pytest.fixture(autouse=True)
def _twilio_callbacks_through_the_app(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The fake Twilio's status callbacks (POSTed over HTTP to NUMFREE_PUBLIC_URL in embedded
    mode) reach the app in-process here: the same signed request, without a server."""
    from django.test import Client

    from telephony import twilio_fake_callbacks

    def through_the_app(url: str, body: bytes, headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = Client().generic(
            "POST",
            path,
            body,
            content_type=headers["Content-Type"],
            headers={"X-Twilio-Signature": headers["X-Twilio-Signature"]},
        )
        return response.status_code

    monkeypatch.setattr(twilio_fake_callbacks, "transport", through_the_app)


PASSWORD = "correct horse battery staple 42"


def make_user(email: str, *, verified: bool = True, name: str = "") -> object:
    from accounts.models import User

    return User.objects.create_user(email=email, password=PASSWORD, name=name, email_verified=verified)


@pytest.fixture
def alice(db):  # type: ignore[no-untyped-def]
    return make_user("alice@example.com", name="Alice")


@pytest.fixture
def bob(db):  # type: ignore[no-untyped-def]
    return make_user("bob@example.com", name="Bob")


@pytest.fixture
def unverified(db):  # type: ignore[no-untyped-def]
    return make_user("carol@example.com", verified=False, name="Carol")


@pytest.fixture
def alice_client(client, alice):  # type: ignore[no-untyped-def]
    client.force_login(alice)
    return client


@pytest.fixture
def subprocess_env(transactional_db) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Environment for a worker or web process started by a test, on the test's database.

    Use with @pytest.mark.django_db(transaction=True) so the process sees committed rows.
    """
    from django.db import connection

    env = {key: value for key, value in os.environ.items() if key != "NUMFREE_TEST_DB_NAME"}
    db = connection.settings_dict
    if settings.DATABASE_IS_POSTGRES:
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env["NUMFREE_TESTING"] = "1"
    env["NUMFREE_FAKES_DB"] = str(settings.FAKES_DB)  # the same fake Twilio and Stripe as the test
    env["SECRET_KEY"] = settings.SECRET_KEY
    return env
