"""When the callee's microphone is refused, each side is told what happened on its own side:
Bob (whose Chrome blocks the microphone) sees his own cause and how to fix it; Alice is told
that Bob's microphone could not be used, never that her own access was denied. Real Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, make_user
from tests.e2e.extension_scenario import ALICE, BOB, in_namespace, server_logs
from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    WAIT_MS,
    Browser,
    build_dev_extension,
    contact_row,
    launch,
    live_server,
    wait_for_phase,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _launch_with_microphone_blocked(playwright: Any, extension: Path, profile: Path) -> Browser:
    """Chromium whose permission prompts are all denied (as when the user blocked the microphone)."""
    flags = [flag for flag in CHROMIUM_FLAGS if flag != "--use-fake-ui-for-media-stream"]
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=False,  # --headless=new is in the flags
        args=[
            *flags,
            "--deny-permission-prompts",
            f"--disable-extensions-except={extension}",
            f"--load-extension={extension}",
        ],
    )
    return Browser(context=context, name="bob")


def _end(window: Any) -> dict[str, str]:
    wait_for_phase(window, "ended")
    return {
        "reason": window.get_attribute("#message", "data-reason"),
        "message": window.inner_text("#message"),
        "tone": window.get_attribute("#message", "data-tone"),
        "help_shown": window.is_visible("#mic-help"),
    }


def test_a_callee_whose_microphone_is_blocked_is_told_so_and_the_caller_is_not_blamed(subprocess_env, tmp_path) -> None:
    make_user(ALICE)
    make_user(BOB)
    extension = build_dev_extension(tmp_path / "extension-dev")

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with live_server(subprocess_env, server_logs(tmp_path)), sync_playwright() as playwright:
            alice = launch(playwright, extension, tmp_path / "profile-alice", "alice")
            bob = _launch_with_microphone_blocked(playwright, extension, tmp_path / "profile-bob")
            popup_a = alice.sign_in(ALICE, PASSWORD)
            popup_b = bob.sign_in(BOB, PASSWORD)
            popup_a.fill("#add-contact input[name=email]", BOB)
            popup_a.click("#add-contact button[type=submit]")
            popup_b.wait_for_selector(
                f'#requests li[data-email="{ALICE}"] button.accept-contact', timeout=WAIT_MS
            ).click()
            popup_a.wait_for_selector(contact_row(BOB, online=True), timeout=WAIT_MS)
            with alice.context.expect_page(lambda page: "/call/call.html" in page.url, timeout=WAIT_MS) as caller:
                popup_a.click(f'#contacts li[data-email="{BOB}"] button.call')
            popup_b.wait_for_selector("#incoming-list li[data-call-id] button.accept", timeout=WAIT_MS)
            with bob.context.expect_page(lambda page: "/call/call.html" in page.url, timeout=WAIT_MS) as callee:
                popup_b.click("#incoming-list li[data-call-id] button.accept")
            outcome = {"alice": _end(caller.value), "bob": _end(callee.value)}
            for browser in (alice, bob):
                browser.context.close()
        return outcome

    outcome = in_namespace(scenario, subprocess_env)
    alice, bob = outcome["alice"], outcome["bob"]
    assert alice["reason"] == bob["reason"] == "user_media_failed"
    # Bob: his own microphone, and how to fix it.
    assert "blocked your microphone" in bob["message"]
    assert bob["help_shown"] is True
    # Alice: Bob's microphone, not hers; and no link to fix a microphone that is fine.
    assert f"{BOB}'s microphone could not be used" in alice["message"]
    assert "your microphone" not in alice["message"].lower().replace("your own microphone is fine", "")
    assert alice["help_shown"] is False
