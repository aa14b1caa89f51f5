"""Two-factor sign-in in a real browser: turn it on, log out, log in with a code, then with a recovery
code; and the API's answers. Headless Chromium and a live server inside a loopback-only namespace.

Screenshots of the setup page and the code prompt at 1280 and 390 px wide go to
/tmp/2fa-shots/ (TWO_FACTOR_SHOTS to change), to be looked at by a person.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.conftest import PASSWORD, make_user
from tests.e2e.extension_scenario import in_namespace as _in_namespace
from tests.e2e.extension_scenario import server_logs as _logs
from tests.e2e.harness import CHROMIUM, SERVER, WAIT_MS, live_server
from tests.twofactor.conftest import wrong_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE = "alice@example.com"
WIDTHS = (1280, 390)


def _shots() -> Path:
    folder = Path(os.environ.get("TWO_FACTOR_SHOTS", "/tmp/2fa-shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _screenshots(page: Any, name: str) -> list[str]:
    paths = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        path = _shots() / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        paths.append(str(path))
    page.set_viewport_size({"width": 1280, "height": 900})
    return paths


def _note_third_party(url: str, found: list[str]) -> None:
    if url.startswith(("http:", "https:", "ws:", "wss:")) and not url.startswith(SERVER):
        found.append(url)


def _log_in_with_password(page: Any) -> None:
    page.goto(f"{SERVER}/login/")
    page.fill("input[name=username]", ALICE)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")


def _log_out(page: Any) -> None:
    page.click("header form[action='/logout/'] button")
    page.wait_for_url(f"{SERVER}/", timeout=WAIT_MS)


def _token(body: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{SERVER}/api/auth/token/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_turn_on_log_out_log_in_with_a_code_then_a_recovery_code_and_through_the_api(subprocess_env, tmp_path):
    make_user(ALICE, name="Alice")

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        seen: dict[str, Any] = {"cookies": set(), "third_party": []}
        with live_server(subprocess_env, _logs(tmp_path)), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("request", lambda request: _note_third_party(request.url, seen["third_party"]))

            # Turn it on: the QR code is an image from our own page; the key is shown as text.
            _log_in_with_password(page)
            page.wait_for_url(f"{SERVER}/dashboard/", timeout=WAIT_MS)
            page.goto(f"{SERVER}/account/")
            page.click("a[href='/account/two-factor/']")
            page.wait_for_selector("img.twofactor-qr", timeout=WAIT_MS)
            seen["qr_src"] = page.get_attribute("img.twofactor-qr", "src")[:30]
            seen["qr_drawn"] = page.evaluate("document.querySelector('img.twofactor-qr').naturalWidth > 0")
            seen["enrol_shots"] = _screenshots(page, "enrol")
            secret = page.get_attribute("#twofactor-secret", "data-secret")
            totp = pyotp.TOTP(secret)
            page.fill("input[name=code]", totp.now())
            page.click("main form button[type=submit]")
            page.wait_for_selector("#recovery-codes", timeout=WAIT_MS)
            codes = page.locator("#recovery-codes code").all_inner_texts()
            seen["recovery_shots"] = _screenshots(page, "recovery-codes")
            _log_out(page)

            # Log in: the password alone leads to the code prompt, not in.
            _log_in_with_password(page)
            page.wait_for_url(f"{SERVER}/login/two-factor/", timeout=WAIT_MS)
            seen["prompt_shots"] = _screenshots(page, "code-prompt")
            seen["dashboard_before_code"] = page.goto(f"{SERVER}/dashboard/").url
            _log_in_with_password(page)
            page.wait_for_url(f"{SERVER}/login/two-factor/", timeout=WAIT_MS)
            # The code of the next time step: the one shown at enrolment is used up.
            page.fill("input[name=code]", totp.at(time.time(), counter_offset=1))
            page.click("main form button[type=submit]")
            page.wait_for_url(f"{SERVER}/dashboard/", timeout=WAIT_MS)
            seen["after_code"] = page.inner_text("main")
            _log_out(page)

            # Log in with a recovery code instead.
            _log_in_with_password(page)
            page.wait_for_url(f"{SERVER}/login/two-factor/", timeout=WAIT_MS)
            page.click("details.twofactor-help summary")
            page.fill("input[name=code]", codes[0])
            page.click("main form button[type=submit]")
            page.wait_for_url(f"{SERVER}/dashboard/", timeout=WAIT_MS)
            seen["after_recovery"] = page.inner_text("body")
            seen["cookies"] = {cookie["name"] for cookie in context.cookies()}
            _log_out(page)
            browser.close()

            # The API: the extension is told to ask for the code.
            seen["api_without"] = _token({"email": ALICE, "password": PASSWORD})
            seen["api_wrong"] = _token({"email": ALICE, "password": PASSWORD, "otp": wrong_code(secret)})
            seen["api_recovery"] = _token({"email": ALICE, "password": PASSWORD, "otp": codes[1]})
            seen["api_recovery_again"] = _token({"email": ALICE, "password": PASSWORD, "otp": codes[1]})
            seen["codes"] = codes
        return seen

    seen = _in_namespace(scenario, subprocess_env)
    assert seen["third_party"] == []
    assert seen["qr_src"].startswith("data:image/svg+xml")
    assert seen["qr_drawn"] is True
    assert len(seen["codes"]) == 10
    assert seen["dashboard_before_code"].startswith(f"{SERVER}/login/")
    assert "Hello, Alice" in seen["after_code"]
    assert "You used a recovery code; 9 left" in seen["after_recovery"]
    assert seen["cookies"] <= {"sessionid", "csrftoken"}
    assert seen["api_without"] == (401, {"code": "two_factor_required", "message": seen["api_without"][1]["message"]})
    assert seen["api_wrong"][0] == 401 and seen["api_wrong"][1]["code"] == "two_factor_invalid"
    assert seen["api_recovery"][0] == 200 and set(seen["api_recovery"][1]) == {"access", "refresh"}
    assert seen["api_recovery_again"][1]["code"] == "two_factor_invalid"
    for path in (*seen["enrol_shots"], *seen["prompt_shots"], *seen["recovery_shots"]):
        assert Path(path).stat().st_size > 0
