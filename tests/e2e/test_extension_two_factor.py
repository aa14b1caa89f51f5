"""Two-factor sign-in in the extension's popup: the code (or a recovery code) is asked after
the password, in real Chromium against a live server."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from tests.conftest import PASSWORD, make_user
from tests.e2e.extension_scenario import ALICE, in_namespace, server_logs
from tests.e2e.harness import WAIT_MS, build_dev_extension, launch, live_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _submit(popup: Any) -> None:
    popup.click("#sign-in button[type=submit]")


def _error(popup: Any) -> dict[str, str]:
    popup.wait_for_selector("#sign-in-error:not([hidden])", timeout=WAIT_MS)
    return {"code": popup.get_attribute("#sign-in-error", "data-code"), "text": popup.inner_text("#sign-in-error")}


def test_the_popup_asks_for_the_code_then_signs_in_with_it_or_with_a_recovery_code(subprocess_env, tmp_path) -> None:
    from twofactor.enrolment import new_recovery_codes
    from twofactor.testing import enable_two_factor

    user = make_user(ALICE)
    secret = enable_two_factor(user)
    recovery = new_recovery_codes(user)[0]
    extension = build_dev_extension(tmp_path / "extension-dev")

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        seen: dict[str, Any] = {}
        with live_server(subprocess_env, server_logs(tmp_path)), sync_playwright() as playwright:
            alice = launch(playwright, extension, tmp_path / "profile-alice", "alice")
            popup = alice.open_popup()
            seen["code_field_at_first"] = popup.is_visible("#sign-in input[name=otp]")
            popup.fill("#sign-in input[name=email]", ALICE)
            popup.fill("#sign-in input[name=password]", PASSWORD)
            _submit(popup)
            seen["asked"] = _error(popup)
            seen["code_field_label"] = popup.inner_text("#otp-step label")
            seen["still_filled"] = popup.input_value("#sign-in input[name=password]") == PASSWORD
            popup.fill("#sign-in input[name=otp]", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
            popup.evaluate("document.querySelector('#sign-in-error').hidden = true")
            _submit(popup)
            seen["wrong"] = _error(popup)
            popup.fill("#sign-in input[name=otp]", pyotp.TOTP(secret).now())
            _submit(popup)
            popup.wait_for_selector('#connection[data-state="open"]', timeout=WAIT_MS)
            seen["signed_in_as"] = popup.inner_text("#me")

            popup.click("#sign-out")
            popup.wait_for_selector("#signed-out:not([hidden])", timeout=WAIT_MS)
            popup.fill("#sign-in input[name=email]", ALICE)
            popup.fill("#sign-in input[name=password]", PASSWORD)
            _submit(popup)
            popup.wait_for_selector("#otp-step:not([hidden])", timeout=WAIT_MS)
            popup.fill("#sign-in input[name=otp]", recovery.upper())
            _submit(popup)
            popup.wait_for_selector('#connection[data-state="open"]', timeout=WAIT_MS)
            seen["recovery_signed_in_as"] = popup.inner_text("#me")
            alice.context.close()
        return seen

    seen = in_namespace(scenario, subprocess_env)
    assert seen["code_field_at_first"] is False
    assert seen["asked"]["code"] == "two_factor_required"
    assert "authenticator app" in seen["asked"]["text"]
    assert "Two-factor code" in seen["code_field_label"]
    assert seen["still_filled"] is True
    assert seen["wrong"]["code"] == "two_factor_invalid"
    assert seen["signed_in_as"] == seen["recovery_signed_in_as"] == ALICE
