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
