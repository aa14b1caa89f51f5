"""axe-core on every page of NumFree Caller in real Chromium: the popup (signed out, with the
two-factor field, and signed in with a contact and a ringing call), the incoming-call window,
both call windows while connected, and the first-run page: no serious or critical violation.

axe-core comes from npm (tests/e2e/axe/package.json and its lockfile, `npm ci`) and is injected
with page.evaluate, which the pages' CSP does not govern: the CSP stays as it ships."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PASSWORD, make_user
from tests.e2e.axe import axe_source as shared_axe_source
from tests.e2e.extension_scenario import ALICE, BOB, in_namespace, server_logs
from tests.e2e.harness import (
    EXTENSION_ID,
    WAIT_MS,
    build_dev_extension,
    contact_row,
    launch,
    live_server,
    wait_for_phase,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RUN_AXE_JS = """
async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(" ")).slice(0, 5),
  }));
}
"""


@pytest.fixture
def axe_source() -> str:
    return shared_axe_source()


def _violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    page.evaluate(axe_source)
    return page.evaluate(RUN_AXE_JS)


def test_every_extension_page_has_no_serious_or_critical_axe_violation(subprocess_env, tmp_path, axe_source) -> None:
    make_user(ALICE)
    make_user(BOB)
    extension = build_dev_extension(tmp_path / "extension-dev")

    def scenario() -> dict[str, list[dict[str, Any]]]:
        from playwright.sync_api import sync_playwright

        found: dict[str, list[dict[str, Any]]] = {}
        with live_server(subprocess_env, server_logs(tmp_path)), sync_playwright() as playwright:
            alice = launch(playwright, extension, tmp_path / "profile-alice", "alice")
            bob = launch(playwright, extension, tmp_path / "profile-bob", "bob")
            popup = alice.open_popup()
            popup.wait_for_selector("#signed-out:not([hidden])", timeout=WAIT_MS)
            found["popup, signed out"] = _violations(popup, axe_source)
            popup.evaluate("document.getElementById('otp-step').hidden = false")
            found["popup, two-factor code"] = _violations(popup, axe_source)
            popup.close()

            welcome = alice.context.new_page()
            welcome.goto(f"chrome-extension://{EXTENSION_ID}/welcome/welcome.html")
            found["first-run page"] = _violations(welcome, axe_source)
            welcome.close()

            popup_a = alice.sign_in(ALICE, PASSWORD)
            popup_b = bob.sign_in(BOB, PASSWORD)
            popup_a.fill("#add-contact input[name=email]", BOB)
            popup_a.click("#add-contact button[type=submit]")
            request = f'#requests li[data-email="{ALICE}"]'
            popup_b.wait_for_selector(request, timeout=WAIT_MS)
            found["popup, contact request"] = _violations(popup_b, axe_source)
            # By selector, not a held handle: the popup re-renders its lists on each presence snapshot.
            popup_b.click(f"{request} button.accept-contact")
            popup_a.wait_for_selector(contact_row(BOB, online=True), timeout=WAIT_MS)
            popup_a.click(f'#contacts li[data-email="{BOB}"] button.remove')
            found["popup, confirming a removal"] = _violations(popup_a, axe_source)
            popup_a.click(f'#contacts li[data-email="{BOB}"] button.cancel-remove')

            with (
                bob.context.expect_page(lambda page: "/incoming/incoming.html" in page.url, timeout=WAIT_MS) as ring,
                alice.context.expect_page(lambda page: "/call/call.html" in page.url, timeout=WAIT_MS) as window,
            ):
                popup_a.click(f'#contacts li[data-email="{BOB}"] button.call')
            popup_b.wait_for_selector("#incoming-list li[data-call-id]", timeout=WAIT_MS)
            found["popup, signed in with a contact and a ringing call"] = _violations(popup_b, axe_source)
            ringing = ring.value
            ringing.wait_for_selector("li[data-call-id] button.accept", timeout=WAIT_MS)
            found["incoming-call window"] = _violations(ringing, axe_source)
            with bob.context.expect_page(lambda page: "/call/call.html" in page.url, timeout=WAIT_MS) as answered:
                ringing.click("button.accept")
            window_a, window_b = window.value, answered.value
            for call_window in (window_a, window_b):
                wait_for_phase(call_window, "connected")
                call_window.wait_for_selector("#verify:not([hidden])", timeout=WAIT_MS)
            found["call window, caller, connected"] = _violations(window_a, axe_source)
            found["call window, callee, connected"] = _violations(window_b, axe_source)
            window_a.click("#hangup")
            wait_for_phase(window_b, "ended")
            found["call window, ended"] = _violations(window_b, axe_source)
            for browser in (alice, bob):
                browser.context.close()
        return found

    found = in_namespace(scenario, subprocess_env)
    print("\naxe-core, violations by page:", {page: [v["id"] for v in found[page]] for page in found})
    serious = {
        page: [v for v in violations if v["impact"] in {"serious", "critical"}] for page, violations in found.items()
    }
    assert not any(serious.values()), {page: v for page, v in serious.items() if v}
