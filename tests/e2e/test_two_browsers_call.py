"""Two headless Chromium browsers with the dev build call each other through a live server,
inside a loopback-only network namespace: signaling through NumFree, audio peer to peer."""

from __future__ import annotations

import os
import re
import time
from typing import Any

import pytest

from tests.conftest import make_user
from tests.e2e.extension_scenario import ALICE, BOB, in_namespace, server_logs, two_signed_in_mutual_contacts
from tests.e2e.extension_scenario import connected_call_facts as _connected_call_facts
from tests.e2e.harness import (
    WAIT_MS,
    build_dev_extension,
    contact_row,
    live_server,
    place_and_answer_call,
    wait_for_phase,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _assert_peer_to_peer(first: tuple[dict, dict], later: tuple[dict, dict]) -> None:
    a, b = later
    assert a["phase"] == b["phase"] == "connected"
    assert a["dtlsState"] == b["dtlsState"] == "connected"
    assert a["remoteFingerprint"] == b["localFingerprint"]
    assert b["remoteFingerprint"] == a["localFingerprint"]
    for facts in (a, b):
        assert all(address.startswith("127.") for address in facts["pairAddresses"]), facts["pairAddresses"]
    for before, after in zip(first, later, strict=True):
        assert after["inboundAudioBytes"] > before["inboundAudioBytes"] > 0
    assert re.fullmatch(r"\d{3} \d{3}", a["code"])
    assert a["code"] == b["code"] == a["shownCode"] == b["shownCode"]


def _hang_up_and_agree(window_a: Any, window_b: Any, popup_a: Any) -> dict[str, str]:
    window_a.click("#hangup")
    wait_for_phase(window_a, "ended")
    wait_for_phase(window_b, "ended")
    reasons = {
        "a": window_a.get_attribute("#message", "data-reason"),
        "b": window_b.get_attribute("#message", "data-reason"),
    }
    popup_a.reload()
    popup_a.wait_for_selector(f'#recent li:has-text("{BOB}")', timeout=WAIT_MS)
    return reasons


def _assert_call_log(call_id: str) -> None:
    from telephony.models import CallLog

    deadline = time.monotonic() + 10
    while CallLog.objects.filter(external_id=call_id, ended_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    rows = {row.user.email: row for row in CallLog.objects.filter(kind="app", external_id=call_id)}
    assert set(rows) == {ALICE, BOB}
    assert (rows[ALICE].direction, rows[ALICE].peer_user.email) == ("out", BOB)
    assert (rows[BOB].direction, rows[BOB].peer_user.email) == ("in", ALICE)
    for row in rows.values():
        assert row.answered_at is not None and row.ended_at is not None
        assert row.end_reason == "user_hangup"
        assert not row.missed
    assert rows[ALICE].duration_s == rows[BOB].duration_s


def test_two_browsers_call_each_other_directly_and_agree_on_the_code(subprocess_env, tmp_path) -> None:
    make_user(ALICE)
    make_user(BOB)
    extension = build_dev_extension(tmp_path / "extension-dev")

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with live_server(subprocess_env, server_logs(tmp_path)), sync_playwright() as playwright:
            alice, bob, popup_a, popup_b = two_signed_in_mutual_contacts(playwright, extension, tmp_path)
            window_a, window_b, call_id = place_and_answer_call(alice, popup_a, bob, popup_b, BOB)
            notifications_after_accept = bob.notifications()
            first, later = _connected_call_facts(window_a, window_b)
            reasons = _hang_up_and_agree(window_a, window_b, popup_a)
            for browser in (alice, bob):
                browser.context.close()
            return {
                "call_id": call_id,
                "first": first,
                "later": later,
                "reasons": reasons,
                "notifications_after_accept": notifications_after_accept,
            }

    outcome = in_namespace(scenario, subprocess_env)
    _assert_peer_to_peer(outcome["first"], outcome["later"])
    assert outcome["notifications_after_accept"] == {}
    assert outcome["reasons"] == {"a": "user_hangup", "b": "user_hangup"}
    _assert_call_log(outcome["call_id"])


def test_a_stopped_service_worker_woken_by_the_popup_reconnects_and_takes_the_next_call(
    subprocess_env, tmp_path
) -> None:
    make_user(ALICE)
    make_user(BOB)
    extension = build_dev_extension(tmp_path / "extension-dev")

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with live_server(subprocess_env, server_logs(tmp_path)), sync_playwright() as playwright:
            alice, bob, popup_a, popup_b = two_signed_in_mutual_contacts(playwright, extension, tmp_path)
            bob.worker.evaluate("globalThis.startedBeforeStop = true")
            popup_b.close()

            # Chrome stops Bob's worker (as it does when idle): its socket goes, Alice sees Bob offline.
            # ServiceWorker.stopWorker needs a version id, which this domain does not report for
            # extension workers; stopAllWorkers from a page of Bob's profile stops it.
            probe = bob.context.new_page()
            probe.goto("about:blank")
            cdp = bob.context.new_cdp_session(probe)
            cdp.send("ServiceWorker.enable")
            cdp.send("ServiceWorker.stopAllWorkers")
            browser_cdp = bob.context.browser.new_browser_cdp_session()
            targets = browser_cdp.send("Target.getTargets")["targetInfos"]
            worker_running_after_stop = any(t["type"] == "service_worker" for t in targets)
            popup_a.wait_for_selector(contact_row(BOB, online=False), timeout=WAIT_MS)

            # Opening the popup wakes it: it reconnects and Alice sees Bob online again.
            popup_b = bob.open_popup()
            popup_b.wait_for_selector('#connection[data-state="open"]', timeout=WAIT_MS)
            popup_a.wait_for_selector(contact_row(BOB, online=True), timeout=WAIT_MS)
            popup_b.wait_for_selector(contact_row(ALICE, online=True), timeout=WAIT_MS)
            fresh_worker = bob.worker.evaluate("globalThis.startedBeforeStop === undefined")

            window_a, window_b, call_id = place_and_answer_call(alice, popup_a, bob, popup_b, BOB)
            first, later = _connected_call_facts(window_a, window_b)
            reasons = _hang_up_and_agree(window_a, window_b, popup_a)
            for browser in (alice, bob):
                browser.context.close()
            return {
                "call_id": call_id,
                "first": first,
                "later": later,
                "reasons": reasons,
                "worker_running_after_stop": worker_running_after_stop,
                "fresh_worker": fresh_worker,
            }

    outcome = in_namespace(scenario, subprocess_env)
    assert outcome["worker_running_after_stop"] is False
    assert outcome["fresh_worker"] is True
    _assert_peer_to_peer(outcome["first"], outcome["later"])
    assert outcome["reasons"] == {"a": "user_hangup", "b": "user_hangup"}
    _assert_call_log(outcome["call_id"])


def test_namespace_helper_sees_only_loopback() -> None:
    import subprocess

    def interfaces() -> str:
        return subprocess.run(["ip", "-o", "link"], check=True, capture_output=True, text=True).stdout

    names = in_namespace(interfaces, dict(os.environ))
    assert [line.split(":")[1].strip() for line in names.splitlines()] == ["lo"]
