"""A call survives losing its media path: for 10 s nothing but signaling passes inside the
test's network namespace (no UDP, no TCP but the server's), and afterwards every candidate the
call started with stays dead (as after a network change or a NAT rebinding), so only an ICE
restart with new candidates can bring the audio back. Real Chromium, dev build."""

from __future__ import annotations

import shutil
import subprocess
import time
from itertools import pairwise
from typing import Any

import pytest

from tests.conftest import IN_CI, make_user
from tests.e2e.extension_scenario import (
    BOB,
    connected_call_facts,
    in_namespace,
    server_logs,
    two_signed_in_mutual_contacts,
)
from tests.e2e.harness import build_dev_extension, live_server, place_and_answer_call, wait_for_phase
from tests.e2e.netns import database_ports

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUTAGE_S = 10
# Samples the inbound audio byte count every 100 ms.
AUDIO_PROBE_JS = """
() => {
  const pc = globalThis.numfreeCall.pc;
  globalThis.audioSamples = [];
  setInterval(async () => {
    const report = await pc.getStats();
    let bytes = 0;
    report.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "audio") bytes += s.bytesReceived || 0; });
    globalThis.audioSamples.push([Date.now(), bytes]);
  }, 100);
  return true;
}
"""
LOCAL_CANDIDATES_JS = """
async () => {
  const report = await globalThis.numfreeCall.pc.getStats();
  return [...report.values()].filter((s) => s.type === "local-candidate").map((s) => [s.protocol, s.port]);
}
"""
# The selected pair: protocol, type and port of each end.
SELECTED_PAIR_JS = """
async () => {
  const report = await globalThis.numfreeCall.pc.getStats();
  const transport = [...report.values()].find((s) => s.type === "transport" && s.selectedCandidatePairId);
  const pair = report.get(transport.selectedCandidatePairId);
  const l = report.get(pair.localCandidateId), r = report.get(pair.remoteCandidateId);
  return [l.protocol, l.candidateType, l.port, r.candidateType, r.port].join(" ");
}
"""


def _iptables(*rule: str) -> None:
    subprocess.run(["iptables", *rule], check=True, capture_output=True)


def _silence(samples: list[list[int]], cut_at_ms: int) -> float | None:
    """The longest stretch (seconds) without a new inbound audio byte, from the last one before
    the cut to the last sample; None when no audio arrived after the cut at all."""
    growth = [at for (_, before), (at, now) in pairwise(samples) if now > before]
    after = [at for at in growth if at > cut_at_ms]
    if not after:
        return None
    points = [max([at for at in growth if at <= cut_at_ms], default=cut_at_ms), *after]
    return max(later - earlier for earlier, later in pairwise(points)) / 1000


def test_a_call_whose_path_is_lost_for_ten_seconds_restarts_ice_and_the_audio_comes_back(
    subprocess_env, tmp_path
) -> None:
    if not shutil.which("iptables"):
        reason = "needs iptables (apt-get install iptables) to cut the media path"
        if IN_CI:
            pytest.fail(f"CI=true: {reason}")
        pytest.skip(reason)
    make_user("alice@example.com")
    make_user(BOB)
    extension = build_dev_extension(tmp_path / "extension-dev")

    kept = ",".join(str(port) for port in (8000, *database_ports(subprocess_env)))

    def scenario() -> dict[str, Any]:
        from playwright.sync_api import sync_playwright

        with live_server(subprocess_env, server_logs(tmp_path)), sync_playwright() as playwright:
            alice, bob, popup_a, popup_b = two_signed_in_mutual_contacts(playwright, extension, tmp_path)
            window_a, window_b, _ = place_and_answer_call(alice, popup_a, bob, popup_b, BOB)
            connected_call_facts(window_a, window_b)
            old_pair = [window.evaluate(SELECTED_PAIR_JS) for window in (window_a, window_b)]
            old_candidates = {tuple(c) for window in (window_a, window_b) for c in window.evaluate(LOCAL_CANDIDATES_JS)}
            for window in (window_a, window_b):
                window.evaluate(AUDIO_PROBE_JS)
            window_a.wait_for_timeout(1000)

            # The network goes (signaling over TCP to the server, and PostgreSQL/Redis, stay), and
            # every candidate the call started with is dead for good.
            for protocol, port in old_candidates:
                _iptables("-I", "INPUT", "-p", protocol, "--dport", str(port), "-j", "DROP")
            outage = [["-p", "udp", "-j", "DROP"], ["-p", "tcp", "-m", "multiport", "!", "--ports", kept, "-j", "DROP"]]
            for rule in outage:
                _iptables("-I", "INPUT", *rule)
            cut_at_ms = window_a.evaluate("Date.now()")
            time.sleep(OUTAGE_S)
            for rule in outage:
                _iptables("-D", "INPUT", *rule)

            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                phases = [w.evaluate("globalThis.numfreeCall.state.phase") for w in (window_a, window_b)]
                samples = [w.evaluate("globalThis.audioSamples") for w in (window_a, window_b)]
                silences = [_silence(s, cut_at_ms) for s in samples]
                if "ended" in phases or (phases == ["connected", "connected"] and None not in silences):
                    break
                window_a.wait_for_timeout(500)
            window_a.wait_for_timeout(2000)  # the audio keeps flowing afterwards
            outcome = {
                "phases": [w.evaluate("globalThis.numfreeCall.state.phase") for w in (window_a, window_b)],
                "reasons": [w.get_attribute("#message", "data-reason") for w in (window_a, window_b)],
                "samples": [w.evaluate("globalThis.audioSamples") for w in (window_a, window_b)],
                "recovery": window_a.evaluate("globalThis.numfreeCall.iceRecovery || {log: []}"),
                "old_pair": old_pair,
                "new_pair": [
                    w.evaluate(SELECTED_PAIR_JS)
                    if w.evaluate("globalThis.numfreeCall.state.phase") != "ended"
                    else None
                    for w in (window_a, window_b)
                ],
                "cut_at_ms": cut_at_ms,
            }
            window_a.click("#hangup")
            wait_for_phase(window_b, "ended")
            for browser in (alice, bob):
                browser.context.close()
            return outcome

    outcome = in_namespace(scenario, subprocess_env)
    silences = [_silence(samples, outcome["cut_at_ms"]) for samples in outcome["samples"]]
    print(f"\nICE recovery: seconds of silence (alice, bob) = {silences}; caller's log {outcome['recovery']['log']}")
    assert outcome["phases"] == ["connected", "connected"], outcome["reasons"]
    assert None not in silences, "the audio never came back"
    # Back within 3 s of the network's return (measured: 10.0 s of silence for the 10-s outage;
    # waiting for Chrome's own "failed" as before: 15.3 s).
    assert all(silence < OUTAGE_S + 3 for silence in silences), silences
    # The audio flows on a new path (new candidates), which only an ICE restart makes.
    assert outcome["new_pair"] != outcome["old_pair"]
    assert any(entry[1].startswith("restart") for entry in outcome["recovery"]["log"])
    for samples in outcome["samples"]:
        assert samples[-1][1] > samples[-15][1], "audio still flowing at the end"
