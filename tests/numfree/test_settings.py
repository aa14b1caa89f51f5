"""Start-up configuration: strict parsing, production guards, check --deploy."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "numfree.com",
    "NUMFREE_PUBLIC_URL": "https://numfree.com",
    "EMAIL_HOST": "smtp.numfree.test",
    "EMAIL_HOST_USER": "mailer",
    "EMAIL_HOST_PASSWORD": "not-a-real-password",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "0" * 32,
    "STRIPE_SECRET_KEY": "sk_live_" + "0" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "0" * 32,
    "STRIPE_PRICE_MONTHLY": "price_monthly0000",
    "STRIPE_PRICE_YEARLY": "price_yearly00000",
    "NUMFREE_EXTENSION_IDS": "lcfnpmfgjjhjcpnhpinojcpgakoaaonk",
    # Never connected to by `check`; host names that cannot resolve prove it.
    "DATABASE_URL": "postgres://numfree@db.numfree.invalid:5432/numfree",
    "REDIS_URL": "redis://redis.numfree.invalid:6379/0",
}


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUG", "NUMFREE_", "DATABASE_URL", "REDIS_URL"))}
    base.update({"NUMFREE_DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_at_warning_level(tmp_path):
    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "NUMFREE_PUBLIC_URL", "EMAIL_HOST"])
def test_production_refuses_to_start_without_a_required_variable(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert missing in result.stderr
    assert "ImproperlyConfigured" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("NUMFREE_RETENTION_DAYS", "ninety"),
        ("NUMFREE_RETENTION_DAYS", "0"),
        ("JWT_REFRESH_REUSE_GRACE_SECONDS", "-1"),
        ("REDIS_URL", "localhost:6379"),
        ("DATABASE_URL", "mysql://db/numfree"),
        ("NUMFREE_RATE_LOGIN_IP", "lots"),
    ],
)
def test_an_invalid_value_stops_start_up_naming_the_variable(tmp_path, name, value):
    result = manage(tmp_path, "check", **{name: value})
    assert result.returncode != 0
    assert name in result.stderr


WEAK_KEYS = {
    "one character": "§",
    "49 characters": secrets.token_urlsafe(60)[:49],
    "4 different characters": "abcd" * 20,
    "made by startproject": "django-insecure-" + secrets.token_urlsafe(50),
}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
@pytest.mark.parametrize("name", ["SECRET_KEY", "SECRET_KEY_FALLBACKS", "JWT_SIGNING_KEY"])
def test_production_refuses_a_key_django_s_deploy_check_calls_weak_naming_the_variable_not_the_key(tmp_path, name, key):
    result = manage(tmp_path, "check", **{**PRODUCTION, name: key})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} is too weak" in result.stderr or f"{name} (key 1 of 1) is too weak" in result.stderr
    assert key not in result.stderr


def test_a_weak_fallback_among_strong_ones_is_refused_by_position(tmp_path):
    fallbacks = ",".join([secrets.token_urlsafe(60), "short", secrets.token_urlsafe(60)])

    result = manage(tmp_path, "check", **{**PRODUCTION, "SECRET_KEY_FALLBACKS": fallbacks})

    assert result.returncode != 0
    assert "SECRET_KEY_FALLBACKS (key 2 of 3) is too weak" in result.stderr


def test_the_embedded_mode_still_takes_any_secret_key(tmp_path):
    assert manage(tmp_path, "check", DEBUG="1", SECRET_KEY="x").returncode == 0


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"DATABASE_URL": ""}, ["DATABASE_URL"]),
        ({"DATABASE_URL": "sqlite:///var/numfree.sqlite3"}, ["DATABASE_URL"]),
        ({"REDIS_URL": ""}, ["REDIS_URL"]),
        ({"DATABASE_URL": "", "REDIS_URL": ""}, ["DATABASE_URL", "REDIS_URL"]),
    ],
)
def test_production_refuses_to_start_on_sqlite_or_without_redis(tmp_path, change, named):
    result = manage(tmp_path, "check", **{**PRODUCTION, **change})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert all(f"{name}=" in result.stderr for name in named)
    assert "NUMFREE_SINGLE_PROCESS=1" in result.stderr


def test_a_single_process_production_may_run_on_sqlite_and_in_memory_layers(tmp_path):
    single = {**PRODUCTION, "DATABASE_URL": "", "REDIS_URL": "", "NUMFREE_SINGLE_PROCESS": "1"}

    result = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **single)

    assert result.returncode == 0, result.stderr


def test_production_public_url_must_be_https(tmp_path):
    result = manage(tmp_path, "check", **{**PRODUCTION, "NUMFREE_PUBLIC_URL": "http://numfree.com"})
    assert result.returncode != 0
    assert "NUMFREE_PUBLIC_URL" in result.stderr


def test_embedded_mode_starts_with_nothing_configured(tmp_path):
    result = manage(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret-key").exists()


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_secure_delete(settings):
    if settings.DATABASE_IS_POSTGRES:
        pytest.skip("SQLite pragmas; this pass runs on PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA secure_delete")
        assert cursor.fetchone()[0] == 1
