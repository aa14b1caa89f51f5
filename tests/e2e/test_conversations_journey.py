"""Texts, names, voicemail and time in a real browser (Debian's Chromium, embedded mode, a live
daphne and worker inside a loopback-only namespace), as a user with a number would use them:

texts from two numbers arrive through the simulation panel -> the conversation list -> a thread ->
a reply -> its status changes on the open page (Twilio's status callback, polled by thread.js);
a number is named and the name shows; a voicemail is played (marked heard) and deleted after the
question; the browser's zone is detected, another is chosen, and times are labelled in it.

Screenshots at 1280 and 390 px go to /tmp/i2-shots/ (I2_SHOTS to change), to be looked at.
"""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.e2e.extension_scenario import in_namespace
from tests.e2e.harness import CHROMIUM, SERVER, WAIT_MS, live_server
from tests.e2e.screens import screenshots, shots_folder
from tests.e2e.subscribers import subscriber_with_a_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE = "alice@example.com"
ANA = "+14155550101"
BEN = "+14155550102"
SHOTS = shots_folder("I2_SHOTS", "/tmp/i2-shots")


def _simulate(page: Any, event: str, sender: str, body: str = "") -> None:
    page.goto(f"{SERVER}/dashboard/simulate/")
    page.select_option("select[name=event]", event)
    page.fill("input[name=sender]", sender)
    if body:
        page.fill("[name=body]", body)
    page.click("main form.stacked button[type=submit]")
    page.wait_for_load_state()


def _twilio_status(sid: str, status: str) -> int:
    """Twilio's status callback for a sent text, signed as Twilio signs it."""
    from django.conf import settings

    from telephony import twilio_api

    path = "/webhooks/twilio/sms/status/"
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": twilio_api.account_sid(), "To": ANA}
    signature = twilio_api.signature_for(settings.PUBLIC_URL.rstrip("/") + path, params)
    request = urllib.request.Request(
        SERVER + path, data=urllib.parse.urlencode(params).encode(), headers={"X-Twilio-Signature": signature}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status


def _off_the_loop(query: Any) -> Any:
    """The ORM from a plain thread: Playwright's sync API runs an event loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(query).result()


def _reload_until(page: Any, selector: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while page.query_selector(selector) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"{selector} never appeared on {page.url}")
        time.sleep(0.5)  # the worker fetches the recording from the fake Twilio
        page.reload()


def test_texts_names_voicemail_and_time_zone_in_a_browser(subprocess_env, tmp_path) -> None:
    from telephony.models import SmsLog

    subscriber_with_a_number(ALICE, name="Alice")
    env = {**subprocess_env, "NUMFREE_DATA_DIR": str(tmp_path / "data"), "DEBUG": "1"}
    logs = tmp_path / "logs"
    logs.mkdir()

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        seen: dict[str, Any] = {"timings": {}}
        with live_server(env, logs), sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Europe/Paris")
            page = context.new_page()
            page.set_default_timeout(WAIT_MS)
            errors: list[str] = []
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            started = time.monotonic()

            page.goto(f"{SERVER}/login/")
            page.fill("input[name=username]", ALICE)
            page.fill("input[name=password]", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_url(f"{SERVER}/dashboard/")

            # Texts from two numbers arrive: the conversation list groups them.
            _simulate(page, "sms", ANA, "Are we still on for lunch?")
            _simulate(page, "sms", ANA, "I'm at the corner table")
            _simulate(page, "sms", BEN, "Your parcel is on its way")
            page.goto(f"{SERVER}/dashboard/messages/")
            seen["list"] = page.inner_text("table.conversations")
            seen["list_shots"] = screenshots(page, SHOTS, "conversations")

            # The browser's zone was reported once (time_zone.js) and is what the account page shows.
            page.goto(f"{SERVER}/account/")
            seen["account_zone"] = page.inner_text("#time-zone")

            # A thread: times labelled in the zone, where the body would be, and a reply.
            page.goto(f"{SERVER}/dashboard/messages/")
            page.click(f"a[href='/dashboard/messages/{ANA}/']")
            page.wait_for_selector("ol.thread li.text.in")
            seen["thread"] = page.inner_text("ol.thread")
            page.fill("textarea[name=body]", "Yes, see you at noon")
            page.click("form[action='/dashboard/messages/send/'] button[type=submit]")
            page.wait_for_selector("ol.thread li.text.out")
            seen["after_reply"] = page.inner_text("ol.thread li.text.out")
            sid = _off_the_loop(lambda: SmsLog.objects.get(direction="out").message_sid)
            seen["status_code"] = _twilio_status(sid, "delivered")
            polled = time.monotonic()
            page.wait_for_selector("ol.thread li.text.out:not([data-pending])", timeout=15_000)
            seen["timings"]["status shown after the callback (s)"] = round(time.monotonic() - polled, 1)
            seen["delivered"] = page.inner_text("ol.thread li.text.out .text-status")

            # Name the number: the name shows in the thread and the list.
            page.fill("input[name=name]", "Ana Lima")
            page.click("form[action='/dashboard/people/name/'] button[type=submit]")
            page.wait_for_selector("h1 strong")
            seen["thread_title"] = page.inner_text("h1")
            seen["thread_shots"] = screenshots(page, SHOTS, "thread")
            page.goto(f"{SERVER}/dashboard/messages/")
            seen["list_named"] = page.inner_text("table.conversations")

            # A voicemail: playing it marks it heard; deleting asks first.
            _simulate(page, "call-voicemail", ANA)
            page.goto(f"{SERVER}/dashboard/voicemail/")
            _reload_until(page, "audio[data-heard-url]")
            seen["voicemail_row"] = page.inner_text("table.voicemail tbody tr")
            seen["voicemail_shots"] = screenshots(page, SHOTS, "voicemail")
            page.evaluate("document.querySelector('audio[data-heard-url]').play().catch(() => {})")
            page.wait_for_selector("table.voicemail .badge.heard")
            page.reload()
            seen["after_play"] = page.inner_text("main")
            page.click("table.voicemail a.danger")
            page.wait_for_url("**/delete/")
            seen["question"] = page.inner_text("main")
            page.click("main form button.danger")
            page.wait_for_url(f"{SERVER}/dashboard/voicemail/")
            seen["after_delete"] = page.inner_text("body")

            # The activity chart on the calls page counts that call and the four texts.
            page.goto(f"{SERVER}/dashboard/calls/")
            seen["chart"] = page.inner_text("figure.activity figcaption")
            seen["chart_shots"] = screenshots(page, SHOTS, "calls-chart")

            # Choose another zone: every time is labelled in it.
            page.goto(f"{SERVER}/account/")
            page.select_option("select[name=time_zone]", "Asia/Tokyo")
            page.click("#time-zone button[type=submit]")
            page.wait_for_url(f"{SERVER}/account/")
            seen["account_shots"] = screenshots(page, SHOTS, "account-time-zone")
            page.goto(f"{SERVER}/dashboard/messages/{ANA}/")
            seen["thread_tokyo"] = page.inner_text("ol.thread")
            seen["timings"]["whole journey (s)"] = round(time.monotonic() - started, 1)
            seen["errors"] = errors
            browser.close()
        return seen

    seen = in_namespace(scenario, env)

    print("timings:", seen["timings"])
    assert "(415) 555-0101" in seen["list"] and "(415) 555-0102" in seen["list"]
    assert "2 unread" in seen["list"] and "1 unread" in seen["list"]
    assert "lunch" not in seen["list"]  # no body, ever
    assert "Europe/Paris" in seen["account_zone"]
    assert "CET" in seen["thread"] and "Received" in seen["thread"] and "lunch" not in seen["thread"]
    assert "email" in seen["thread"]  # on its way to / forwarded to your email, where the body would be
    assert "Sent" in seen["after_reply"]
    assert seen["status_code"] == 204
    assert seen["delivered"] == "Delivered"
    assert "Ana Lima" in seen["thread_title"] and "Ana Lima" in seen["list_named"]
    assert "Ana Lima" in seen["voicemail_row"] and "New" in seen["voicemail_row"]
    assert "No new voicemail" in seen["after_play"]
    assert "cannot be brought back" in seen["question"]
    assert "Voicemail deleted." in seen["after_delete"]
    assert "1 call and 4 texts in the last 30 days" in seen["chart"]
    assert "JST" in seen["thread_tokyo"] and "CET" not in seen["thread_tokyo"]
    assert seen["errors"] == []
    for path in [
        *seen["list_shots"],
        *seen["thread_shots"],
        *seen["voicemail_shots"],
        *seen["account_shots"],
        *seen["chart_shots"],
    ]:
        assert path.stat().st_size > 0
