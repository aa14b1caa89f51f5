"""A server that does not list this extension's id: the popup says why it cannot connect
(real Chromium, dev build, live daphne in a loopback-only namespace)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import PASSWORD, make_user
from tests.e2e.extension_scenario import ALICE, in_namespace, server_logs
from tests.e2e.harness import EXTENSION_ID, WAIT_MS, build_dev_extension, launch, live_server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OTHER_ID = "abcdefghijklmnopabcdefghijklmnop"


def test_a_server_that_refuses_this_extension_is_named_in_the_popup_instead_of_reconnecting_forever(
    subprocess_env, tmp_path
) -> None:
    make_user(ALICE)
    extension = build_dev_extension(tmp_path / "extension-dev")
    env = {**subprocess_env, "NUMFREE_EXTENSION_IDS": OTHER_ID}

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with live_server(env, server_logs(tmp_path)), sync_playwright() as playwright:
            alice = launch(playwright, extension, tmp_path / "profile-alice", "alice")
            popup = alice.open_popup()
            popup.fill("#sign-in input[name=email]", ALICE)
            popup.fill("#sign-in input[name=password]", PASSWORD)
            signed_in_at = time.monotonic()
            popup.click("#sign-in button[type=submit]")
            popup.wait_for_selector("#signed-in:not([hidden])", timeout=WAIT_MS)
            popup.wait_for_selector('#connection[data-state="stopped"]', timeout=WAIT_MS)
            told_after = time.monotonic() - signed_in_at
            shown = popup.inner_text("#connection")
            reconnect_visible = popup.is_visible("#reconnect")
            stored = alice.worker.evaluate("chrome.storage.session.get('connection')")
            # Nothing retries behind the user's back: still stopped a while later.
            popup.wait_for_timeout(3000)
            still = popup.get_attribute("#connection", "data-state")
            alice.context.close()
            return {
                "told_after": told_after,
                "shown": shown,
                "reconnect_visible": reconnect_visible,
                "stored": stored,
                "still": still,
            }

    outcome = in_namespace(scenario, env)
    assert outcome["stored"]["connection"]["code"] == "origin_not_allowed"
    assert "does not accept this copy of NumFree Caller" in outcome["shown"]
    assert EXTENSION_ID in outcome["shown"]
    assert "NUMFREE_EXTENSION_IDS" in outcome["shown"]
    assert "Reconnecting" not in outcome["shown"]
    assert outcome["reconnect_visible"] is True
    assert outcome["still"] == "stopped"
    assert outcome["told_after"] < 15, outcome["told_after"]
