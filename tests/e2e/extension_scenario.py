"""Steps shared by the NumFree Caller browser tests: run inside a loopback-only namespace
(skip, or fail when CI=true, where none can be made), where the server logs go, and two
signed-in mutual contacts."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.conftest import IN_CI, PASSWORD
from tests.e2e.harness import WAIT_MS, Browser, call_facts, contact_row, launch, wait_for_phase
from tests.e2e.netns import NamespaceUnavailable, database_ports, run_in_loopback_namespace

T = TypeVar("T")
ALICE = "alice@example.com"
BOB = "bob@example.com"


def in_namespace(task: Callable[[], T], env: dict[str, str]) -> T:
    try:
        return run_in_loopback_namespace(task, forward_ports=database_ports(env))
    except NamespaceUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI=true and no loopback-only network namespace: {exc}")
        pytest.skip(f"needs a network namespace (unshare -n): {exc}")


def server_logs(tmp_path: Path) -> Path:
    """Server logs go to var/e2e-logs/<test>/ so a failure can be read afterwards."""
    logs = Path(__file__).resolve().parents[2] / "var" / "e2e-logs" / tmp_path.name
    logs.mkdir(parents=True, exist_ok=True)
    return logs


def two_signed_in_mutual_contacts(
    playwright: Any, extension: Path, tmp_path: Path
) -> tuple[Browser, Browser, Any, Any]:
    alice = launch(playwright, extension, tmp_path / "profile-alice", "alice")
    bob = launch(playwright, extension, tmp_path / "profile-bob", "bob")
    popup_a = alice.sign_in(ALICE, PASSWORD)
    popup_b = bob.sign_in(BOB, PASSWORD)
    popup_a.fill("#add-contact input[name=email]", BOB)
    popup_a.click("#add-contact button[type=submit]")
    request = f'#requests li[data-email="{ALICE}"][data-status="incoming"]'
    popup_b.wait_for_selector(request, timeout=WAIT_MS)
    # By selector, not a held handle: the popup re-renders its lists on each presence snapshot.
    popup_b.click(f"{request} button.accept-contact")
    popup_a.wait_for_selector(contact_row(BOB, online=True), timeout=WAIT_MS)
    popup_b.wait_for_selector(contact_row(ALICE, online=True), timeout=WAIT_MS)
    return alice, bob, popup_a, popup_b


def connected_call_facts(window_a: Any, window_b: Any) -> tuple[dict, dict]:
    """Both windows connected, with the verification box shown and audio flowing."""
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
