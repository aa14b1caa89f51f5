"""The offline flows finish in a real browser (Debian's Chromium, embedded mode, a live daphne and
worker inside a loopback-only namespace): the forwarding phone is confirmed with the code read in
the simulation panel, a call is answered by it, and a sent text goes queued -> delivered through
the fake Twilio's status callbacks, which the worker POSTs over HTTP to NUMFREE_PUBLIC_URL.
Then the privacy center, as a person reads it.

Screenshots at 1280 and 390 px go to /tmp/i3-shots/ (I3_SHOTS to change), to be looked at.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.extension_scenario import in_namespace
from tests.e2e.harness import CHROMIUM, SERVER, WAIT_MS, live_server
from tests.e2e.screens import screenshots, shots_folder
from tests.e2e.subscribers import subscriber_with_a_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE = "alice@example.com"
PHONE = "+14155550199"
SHOTS = shots_folder("I3_SHOTS", "/tmp/i3-shots")


def _reload_until(page: Any, text: str, seconds: float = 30) -> float:
    """Reload until the page says `text` (the worker delivers what Twilio reports); returns the wait."""
    started = time.monotonic()
    while text.lower() not in page.inner_text("main").lower():
        if time.monotonic() - started > seconds:
            raise AssertionError(f"{text!r} never appeared on {page.url}")
        time.sleep(0.5)
        page.reload()
    return round(time.monotonic() - started, 1)


def test_confirm_the_forwarding_phone_answer_a_call_and_see_a_text_delivered_offline(subprocess_env, tmp_path) -> None:
    subscriber_with_a_number(ALICE, name="Alice")
    env = {**subprocess_env, "NUMFREE_DATA_DIR": str(tmp_path / "data"), "DEBUG": "1"}
    logs = tmp_path / "logs"
    logs.mkdir()

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        seen: dict[str, Any] = {"timings": {}, "shots": []}
        with live_server(env, logs), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(WAIT_MS)
            started = time.monotonic()
            page.goto(f"{SERVER}/login/")
            page.fill("input[name=username]", ALICE)
            page.fill("input[name=password]", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_url(f"{SERVER}/dashboard/")

            # The code is texted to the phone; in the simulation, the panel shows what the phone would.
            page.goto(f"{SERVER}/dashboard/forwarding/")
            page.fill("form[action='/dashboard/forwarding/phone/'] input[name=phone]", PHONE)
            page.click("form[action='/dashboard/forwarding/phone/'] button[type=submit]")
            page.wait_for_selector("form[action='/dashboard/forwarding/phone/confirm/']")
            seen["asked"] = page.inner_text("body")
            seen["shots"] += screenshots(page, SHOTS, "forwarding-code-sent")
            page.click("main a[href='/dashboard/simulate/sent/']")
            page.wait_for_url(f"{SERVER}/dashboard/simulate/sent/")
            seen["panel"] = page.inner_text("main")
            seen["shots"] += screenshots(page, SHOTS, "simulation-sent-texts")
            code = re.search(r"Your NumFree code is (\d{6})", seen["panel"])[1]  # type: ignore[index]
            page.goto(f"{SERVER}/dashboard/forwarding/")
            page.fill("input[name=code]", code)
            page.click("form[action='/dashboard/forwarding/phone/confirm/'] button[type=submit]")
            page.wait_for_load_state()
            seen["confirmed"] = page.inner_text("body")
            seen["shots"] += screenshots(page, SHOTS, "forwarding-confirmed")
            seen["timings"]["sign in to confirmed phone (s)"] = round(time.monotonic() - started, 1)

            # The code's text is delivered (Twilio's callbacks, POSTed by the worker), then deleted at
            # "Twilio"; the simulated phone still shows it.
            page.goto(f"{SERVER}/dashboard/messages/{PHONE}/")
            seen["timings"]["code text shown delivered (s)"] = _reload_until(page, "delivered")
            page.goto(f"{SERVER}/dashboard/simulate/sent/")
            seen["timings"]["code on the simulated phone, delivered (s)"] = _reload_until(page, "delivered")
            seen["panel_later"] = page.inner_text("main")

            # A call rings the confirmed phone and is answered; its end arrives as Twilio's status callback.
            page.goto(f"{SERVER}/dashboard/simulate/")
            seen["panel_call"] = page.inner_text("main")
            page.select_option("select[name=event]", "call-answered")
            page.fill("input[name=sender]", "+14155550100")
            page.click("main form.stacked button[type=submit]")
            page.wait_for_load_state()
            seen["call_message"] = page.inner_text("body")
            seen["timings"]["answered call shown completed (s)"] = _reload_until(page, "45 s")
            seen["calls"] = page.inner_text("main")
            seen["shots"] += screenshots(page, SHOTS, "calls-answered")

            page.goto(f"{SERVER}/privacy/center/")
            seen["privacy"] = page.inner_text("main")
            seen["shots"] += screenshots(page, SHOTS, "privacy-center")
            browser.close()
        return seen

    seen = in_namespace(scenario, env)

    print("timings:", seen["timings"])
    assert "We texted a six-digit code" in seen["asked"]
    assert "Your NumFree code is" in seen["panel"] and "It expires in 15 minutes." in seen["panel"]
    assert "Confirmed: calls to your NumFree number now ring that phone." in seen["confirmed"]
    assert code in seen["panel_later"] if (code := re.search(r"is (\d{6})", seen["panel"])[1]) else False  # type: ignore[index]
    assert "Calls ring" in seen["confirmed"]
    assert "Call, answered" in seen["panel_call"] and "every call goes to voicemail" not in seen["panel_call"]
    assert "your forwarding phone answered it" in seen["call_message"]
    assert "answered" in seen["calls"] and "45 s" in seen["calls"]
    assert "What we hold" in seen["privacy"] and "Your requests" in seen["privacy"]
    assert all(Path(path).stat().st_size > 0 for path in seen["shots"])

    from telephony.models import CallLog, SmsLog

    call = CallLog.objects.get()
    assert call.answered_at is not None and not call.missed and call.duration_s == 45
    code_text = SmsLog.objects.get(direction="out")
    assert code_text.status == "delivered" and code_text.deleted_at_twilio
