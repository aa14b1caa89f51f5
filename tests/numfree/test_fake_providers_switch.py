"""Production talks to the local fakes of Twilio and Stripe only when NUMFREE_FAKE_PROVIDERS=1 says so,
and then says it at every start; a test flag (NUMFREE_TESTING) alone never turns them on."""

from __future__ import annotations

from pathlib import Path

from tests.numfree.test_settings import PRODUCTION, manage

SHOW = "from django.conf import settings; print(settings.TWILIO_FAKE, settings.STRIPE_FAKE)"


def test_production_reaches_twilio_and_stripe_even_when_a_test_flag_is_set(tmp_path: Path) -> None:
    result = manage(tmp_path, "shell", "--no-imports", "-c", SHOW, **PRODUCTION, NUMFREE_TESTING="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
    assert "NUMFREE_FAKE_PROVIDERS" not in result.stderr


def test_production_uses_the_fakes_only_when_the_switch_is_set_and_warns_at_start(tmp_path: Path) -> None:
    result = manage(tmp_path, "shell", "--no-imports", "-c", SHOW, **PRODUCTION, NUMFREE_FAKE_PROVIDERS="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
    assert "NUMFREE_FAKE_PROVIDERS=1 in production mode: Twilio and Stripe are the LOCAL FAKES" in result.stderr


def test_the_embedded_mode_still_uses_the_fakes_without_credentials(tmp_path: Path) -> None:
    result = manage(tmp_path, "shell", "--no-imports", "-c", SHOW, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
    assert "NUMFREE_FAKE_PROVIDERS" not in result.stderr


def test_a_web_process_answers_a_direct_health_probe_over_plain_http_without_a_redirect(tmp_path: Path) -> None:
    code = (
        "from django.test import Client; "
        "r = Client(HTTP_HOST='numfree.com').get('/login/'); print(r.status_code); "
        "from django.conf import settings; print(settings.SECURE_REDIRECT_EXEMPT)"
    )
    result = manage(tmp_path, "shell", "--no-imports", "-c", code, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "301"  # everything else goes to https
    assert "healthz" in result.stdout
