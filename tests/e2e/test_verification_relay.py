"""A relay in the middle cannot make the verification codes match: the signaling server swaps
the DTLS certificate on each leg (tests/e2e/mitm_signaling.py, a media relay of its own), and
the two real Chromium call windows show different codes."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from tests.conftest import make_user
from tests.e2e.extension_scenario import BOB, in_namespace, server_logs, two_signed_in_mutual_contacts
from tests.e2e.harness import (
    WAIT_MS,
    build_dev_extension,
    call_facts,
    live_server,
    place_and_answer_call,
    wait_for_phase,
)
from tests.e2e.netns import NamespaceUnavailable

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RELAY_ADDRESS = "127.0.0.2"  # aiortc leaves 127.0.0.1 out of its candidates

SHOWN_JS = """
() => ({
  status: document.getElementById("verify").dataset.status || (document.getElementById("code").textContent ? "verified" : ""),
  code: document.getElementById("code").textContent,
  label: document.getElementById("verify-label")?.textContent || "",
})
"""


def test_a_relay_that_swaps_the_certificate_on_each_leg_cannot_make_the_two_codes_match(
    subprocess_env, tmp_path
) -> None:
    make_user("alice@example.com")
    make_user(BOB)
    extension = build_dev_extension(tmp_path / "extension-dev")

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        added = subprocess.run(["ip", "addr", "add", f"{RELAY_ADDRESS}/8", "dev", "lo"], capture_output=True, text=True)
        if added.returncode != 0:
            raise NamespaceUnavailable(f"cannot add {RELAY_ADDRESS} to lo: {added.stderr.strip()}")
        logs = server_logs(tmp_path)
        with (
            live_server(subprocess_env, logs, app="tests.e2e.mitm_signaling:application"),
            sync_playwright() as playwright,
        ):
            alice, bob, popup_a, popup_b = two_signed_in_mutual_contacts(playwright, extension, tmp_path)
            window_a, window_b, _ = place_and_answer_call(alice, popup_a, bob, popup_b, BOB)
            for window in (window_a, window_b):
                wait_for_phase(window, "connected")
            for window in (window_a, window_b):
                window.wait_for_selector("#verify:not([hidden])", timeout=WAIT_MS)
            window_a.wait_for_timeout(1000)  # a changed verdict would show by now
            outcome = {
                "facts": [call_facts(window_a), call_facts(window_b)],
                "shown": [window_a.evaluate(SHOWN_JS), window_b.evaluate(SHOWN_JS)],
            }
            window_a.click("#hangup")
            wait_for_phase(window_b, "ended")
            for browser in (alice, bob):
                browser.context.close()
        outcome["relay_log"] = [
            line for line in (logs / "web.log").read_text().splitlines() if "relay in the middle" in line
        ]
        return outcome

    outcome = in_namespace(scenario, subprocess_env)
    alice, bob = outcome["facts"]
    shown_a, shown_b = outcome["shown"]
    print(f"\nrelay: {outcome['relay_log']}\nAlice sees {shown_a}, Bob sees {shown_b}")
    # The relay really is in the middle: neither browser's DTLS peer is the other browser.
    assert alice["remoteFingerprint"] != bob["localFingerprint"]
    assert bob["remoteFingerprint"] != alice["localFingerprint"]
    assert alice["pairAddresses"][1] == bob["pairAddresses"][1] == RELAY_ADDRESS
    assert outcome["relay_log"], "the relay did not take part"
    # Read aloud, the two windows do not agree.
    assert shown_a["code"] or shown_a["status"] == "failed"
    assert shown_b["code"] or shown_b["status"] == "failed"
    assert (shown_a["status"], shown_a["code"]) != (shown_b["status"], shown_b["code"])
