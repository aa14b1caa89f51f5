"""An incoming call is hard to miss: a window rings audibly within 2 s of the invite, with no
permission beyond storage and notifications, and clicking the notification brings the call's UI
to the front (real Chromium; Chromium 156 here, the manifest's minimum is 116)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import make_user
from tests.e2e.extension_scenario import ALICE, BOB, in_namespace, server_logs, two_signed_in_mutual_contacts
from tests.e2e.harness import WAIT_MS, build_dev_extension, live_server, wait_for_phase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RINGING_PAGE = "/incoming/incoming.html"


def _quietly(page: Any, expression: str) -> Any:
    """Evaluates without a user gesture (Playwright's evaluate counts as one, which would unlock sound)."""
    cdp = page.context.new_cdp_session(page)
    try:
        return cdp.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})[
            "result"
        ].get("value")
    finally:
        cdp.detach()


def test_an_incoming_call_rings_within_two_seconds_and_its_notification_brings_up_the_call_ui(
    subprocess_env, tmp_path
) -> None:
    make_user(ALICE)
    make_user(BOB)
    extension = build_dev_extension(tmp_path / "extension-dev")

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        seen: dict[str, Any] = {}
        with live_server(subprocess_env, server_logs(tmp_path)), sync_playwright() as playwright:
            alice, bob, popup_a, popup_b = two_signed_in_mutual_contacts(playwright, extension, tmp_path)
            popup_b.close()  # nothing of Bob's is open: the ringing has to come by itself
            with (
                bob.context.expect_page(lambda page: RINGING_PAGE in page.url, timeout=WAIT_MS) as ringing_page,
                alice.context.expect_page(lambda page: "/call/call.html" in page.url, timeout=WAIT_MS) as window,
            ):
                popup_a.click(f'#contacts li[data-email="{BOB}"] button.call')
            ringing = ringing_page.value
            ringing.wait_for_load_state()
            deadline_ms = 5_000
            while _quietly(ringing, "globalThis.numfreeRinging?.audibleAt") is None and deadline_ms > 0:
                ringing.wait_for_timeout(100)
                deadline_ms -= 100
            entry = next(iter(bob.worker.evaluate("chrome.storage.session.get('ringing')")["ringing"].values()))
            seen["invite_to_audible_ms"] = (
                None
                if _quietly(ringing, "globalThis.numfreeRinging.audibleAt") is None
                else _quietly(ringing, "globalThis.numfreeRinging.audibleAt") - (entry["expires_at"] - 60_000)
            )
            seen["context_state"] = _quietly(ringing, "globalThis.numfreeRinging.state")
            seen["ringing_text"] = ringing.inner_text("#calls")
            call_id = entry["call_id"]

            # Bob closes the ringing window; clicking the notification (still there) brings it back.
            assert list(bob.notifications()) == [f"incoming:{call_id}"]
            ringing.close()
            with bob.context.expect_page(lambda page: RINGING_PAGE in page.url, timeout=WAIT_MS) as again:
                bob.worker.evaluate("(id) => globalThis.numfreeNotificationClicked(id)", f"incoming:{call_id}")
            ringing = again.value
            ringing.wait_for_selector(f'li[data-call-id="{call_id}"]', timeout=WAIT_MS)
            seen["reopened_rings"] = _quietly(ringing, "globalThis.numfreeRinging.state")

            # Accept in the ringing window: the call window opens, the ringing stops and its window goes.
            with bob.context.expect_page(lambda page: "/call/call.html" in page.url, timeout=WAIT_MS) as call_window:
                ringing.click("button.accept")
            window_b = call_window.value
            wait_for_phase(window.value, "connected")
            wait_for_phase(window_b, "connected")
            for _ in range(50):
                if ringing.is_closed():
                    break
                window_b.wait_for_timeout(100)
            seen["ringing_closed"] = ringing.is_closed()
            seen["notifications_after_accept"] = bob.notifications()
            window.value.click("#hangup")
            wait_for_phase(window_b, "ended")
            for browser in (alice, bob):
                browser.context.close()
        return seen

    seen = in_namespace(scenario, subprocess_env)
    print(f"\nfrom call.invite to an audible ring: {seen['invite_to_audible_ms']} ms")
    assert seen["context_state"] == "running"
    assert seen["invite_to_audible_ms"] is not None, "the ringtone never sounded"
    assert seen["invite_to_audible_ms"] <= 2_000
    assert f"{ALICE} is calling" in seen["ringing_text"]
    assert seen["reopened_rings"] == "running"
    assert seen["ringing_closed"] is True
    assert seen["notifications_after_accept"] == {}
