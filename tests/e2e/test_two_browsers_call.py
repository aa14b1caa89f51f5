"""Two headless Chromium browsers with the dev build call each other through a live server,
inside a loopback-only network namespace: signaling through NumFree, audio peer to peer."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import IN_CI, PASSWORD, make_user
from tests.e2e.harness import (
    WAIT_MS,
    build_dev_extension,
    call_facts,
    contact_row,
    launch,
    live_server,
    place_and_answer_call,
    wait_for_phase,
)
from tests.e2e.netns import NamespaceUnavailable, run_in_loopback_namespace

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALICE = "alice@example.com"
BOB = "bob@example.com"


def _ports_to_forward(env: dict[str, str]) -> tuple[int, ...]:
    """PostgreSQL and Redis on this machine's loopback, reached from inside the namespace."""
    ports = []
    for name, default in (("DATABASE_URL", 5432), ("REDIS_URL", 6379)):
        parts = urlsplit(env.get(name, ""))
        if parts.scheme in {"postgres", "postgresql", "redis"} and parts.hostname in {"127.0.0.1", "localhost"}:
            ports.append(parts.port or default)
    return tuple(ports)


def _in_namespace(task: Any, env: dict[str, str]) -> Any:
    try:
        return run_in_loopback_namespace(task, forward_ports=_ports_to_forward(env))
    except NamespaceUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI=true and no loopback-only network namespace: {exc}")
        pytest.skip(f"needs a network namespace (unshare -n): {exc}")


def _logs(tmp_path: Path) -> Path:
    """Server logs go to var/e2e-logs/<test>/ so a failure can be read afterwards."""
    logs = Path(__file__).resolve().parents[2] / "var" / "e2e-logs" / tmp_path.name
    logs.mkdir(parents=True, exist_ok=True)
    return logs


def _two_signed_in_mutual_contacts(playwright: Any, extension: Path, tmp_path: Path) -> tuple[Any, Any, Any, Any]:
    alice = launch(playwright, extension, tmp_path / "profile-alice", "alice")
    bob = launch(playwright, extension, tmp_path / "profile-bob", "bob")
    popup_a = alice.sign_in(ALICE, PASSWORD)
    popup_b = bob.sign_in(BOB, PASSWORD)
    popup_a.fill("#add-contact input[name=email]", BOB)
    popup_a.click("#add-contact button[type=submit]")
    request = popup_b.wait_for_selector(f'#requests li[data-email="{ALICE}"][data-status="incoming"]', timeout=WAIT_MS)
    request.query_selector("button.accept-contact").click()
    popup_a.wait_for_selector(contact_row(BOB, online=True), timeout=WAIT_MS)
    popup_b.wait_for_selector(contact_row(ALICE, online=True), timeout=WAIT_MS)
    return alice, bob, popup_a, popup_b


def _connected_call_facts(window_a: Any, window_b: Any) -> tuple[dict, dict]:
    """Both windows connected, with the verification code shown and audio flowing."""
    wait_for_phase(window_a, "connected")
    wait_for_phase(window_b, "connected")
    for window in (window_a, window_b):
        window.wait_for_selector("#verify:not([hidden])", timeout=WAIT_MS)
    first = (call_facts(window_a), call_facts(window_b))
    deadline = time.monotonic() + 15
    while True:
        later = (call_facts(window_a), call_facts(window_b))
        grew = all(
            after["inboundAudioBytes"] > before["inboundAudioBytes"] > 0
            for before, after in zip(first, later, strict=True)
        )
        if grew or time.monotonic() > deadline:
            return first, later
        window_a.wait_for_timeout(500)


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

        with live_server(subprocess_env, _logs(tmp_path)), sync_playwright() as playwright:
            alice, bob, popup_a, popup_b = _two_signed_in_mutual_contacts(playwright, extension, tmp_path)
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

    outcome = _in_namespace(scenario, subprocess_env)
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

        with live_server(subprocess_env, _logs(tmp_path)), sync_playwright() as playwright:
            alice, bob, popup_a, popup_b = _two_signed_in_mutual_contacts(playwright, extension, tmp_path)
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

    outcome = _in_namespace(scenario, subprocess_env)
    assert outcome["worker_running_after_stop"] is False
    assert outcome["fresh_worker"] is True
    _assert_peer_to_peer(outcome["first"], outcome["later"])
    assert outcome["reasons"] == {"a": "user_hangup", "b": "user_hangup"}
    _assert_call_log(outcome["call_id"])


def test_namespace_helper_sees_only_loopback() -> None:
    import subprocess

    def interfaces() -> str:
        return subprocess.run(["ip", "-o", "link"], check=True, capture_output=True, text=True).stdout

    names = _in_namespace(interfaces, dict(os.environ))
    assert [line.split(":")[1].strip() for line in names.splitlines()] == ["lo"]
