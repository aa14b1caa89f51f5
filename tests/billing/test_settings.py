"""Production never falls back to the fake Stripe: missing keys stop start-up, naming what is missing."""

from __future__ import annotations

import pytest

from tests.numfree.test_settings import PRODUCTION, manage

STRIPE = ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_MONTHLY", "STRIPE_PRICE_YEARLY"]


@pytest.mark.parametrize("missing", STRIPE)
def test_production_refuses_to_start_without_each_stripe_variable(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert missing in result.stderr


def test_production_names_every_missing_stripe_variable_at_once(tmp_path):
    env = {k: v for k, v in PRODUCTION.items() if k not in STRIPE}
    result = manage(tmp_path, "check", **env)
    assert result.returncode != 0
    assert all(name in result.stderr for name in STRIPE)


def test_a_half_configured_stripe_in_debug_is_refused_rather_than_faked(tmp_path):
    result = manage(tmp_path, "check", DEBUG="1", STRIPE_SECRET_KEY="sk_test_" + "0" * 24)
    assert result.returncode != 0
    assert "STRIPE_WEBHOOK_SECRET" in result.stderr


def test_debug_without_keys_uses_the_fake(tmp_path):
    result = manage(tmp_path, "shell", "-c", "from django.conf import settings; print(settings.STRIPE_FAKE)", DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"
