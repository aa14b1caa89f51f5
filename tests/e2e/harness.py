"""Pieces of the two-browser tests: a live daphne + worker, and Chromium with the dev build."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXTENSION_ID = "lcfnpmfgjjhjcpnhpinojcpgakoaaonk"
SERVER = "http://127.0.0.1:8000"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--allow-loopback-in-peer-connection",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WAIT_MS = 30_000


def build_dev_extension(out: Path) -> Path:
    subprocess.run(["node", str(ROOT / "extension" / "build.mjs"), str(out)], check=True, capture_output=True)
    return out


@contextlib.contextmanager
def live_server(
    env: dict[str, str], logs: Path, *, port: int = 8000, app: str = "numfree.asgi:application"
) -> Iterator[None]:
    """daphne on 127.0.0.1:<port> (8000 unless told) serving `app` and one worker, on the test database."""
    python = str(Path(sys.executable))
    daphne = [python, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--websocket-max-message-size", "65536"]
    commands = {
        "web": [*daphne, app],
        "worker": [python, "manage.py", "worker"],
    }
    processes = []
    try:
        for name, command in commands.items():
            log = (logs / f"{name}.log").open("wb")
            processes.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60  # Django's start-up on two cores shared with other test runs
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or processes[0].poll() is not None:
                raise RuntimeError("the server did not start:\n" + (logs / "web.log").read_text()[-3000:])
            time.sleep(0.2)
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@dataclass
class Browser:
    """One Chromium profile with the dev build loaded."""

    context: Any
    name: str

    @property
    def worker(self) -> Any:
        workers = [w for w in self.context.service_workers if EXTENSION_ID in w.url]
        if workers:
            return workers[-1]
        return self.context.wait_for_event("serviceworker", timeout=WAIT_MS)

    def open_popup(self) -> Any:
        page = self.context.new_page()
        page.goto(f"chrome-extension://{EXTENSION_ID}/popup/popup.html")
        return page

    def sign_in(self, email: str, password: str) -> Any:
        popup = self.open_popup()
        popup.fill("#sign-in input[name=email]", email)
        popup.fill("#sign-in input[name=password]", password)
        popup.click("#sign-in button[type=submit]")
        popup.wait_for_selector("#signed-in:not([hidden])", timeout=WAIT_MS)
        try:
            popup.wait_for_selector('#connection[data-state="open"]', timeout=WAIT_MS)
        except Exception as exc:
            state = self.worker.evaluate("chrome.storage.session.get('connection')")
            raise AssertionError(f"{self.name} did not connect to signaling: {state}") from exc
        return popup

    def notifications(self) -> dict[str, Any]:
        return self.worker.evaluate("chrome.notifications.getAll()")


def launch(playwright: Any, extension: Path, profile: Path, name: str) -> Browser:
    context = playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=False,  # --headless=new below: the headless mode that runs extensions
        args=[*CHROMIUM_FLAGS, f"--disable-extensions-except={extension}", f"--load-extension={extension}"],
    )
    return Browser(context=context, name=name)


def contact_row(email: str, *, online: bool) -> str:
    return f'#contacts li[data-email="{email}"][data-online="{str(online).lower()}"]'


CALL_FACTS_JS = r"""
async () => {
  const call = globalThis.numfreeCall;
  const report = await call.pc.getStats();
  const all = [...report.values()];
  const transport = all.find((s) => s.type === "transport" && s.selectedCandidatePairId);
  const pair = report.get(transport.selectedCandidatePairId);
  const local = report.get(pair.localCandidateId);
  const remote = report.get(pair.remoteCandidateId);
  return {
    phase: call.state.phase,
    code: call.code,
    shownCode: document.getElementById("code").textContent,
    dtlsState: transport.dtlsState,
    localFingerprint: report.get(transport.localCertificateId).fingerprint,
    // Chromium sometimes leaves the peer certificate out of getStats; DTLS has then already
    // checked the peer against the single fingerprint of the remote description.
    remoteFingerprint: report.get(transport.remoteCertificateId)?.fingerprint
      ?? /a=fingerprint:\S+ (\S+)/.exec(call.pc.remoteDescription.sdp)[1],
    pairAddresses: [local.address || local.ip, remote.address || remote.ip],
    inboundAudioBytes: all.filter((s) => s.type === "inbound-rtp" && s.kind === "audio")
      .reduce((sum, s) => sum + (s.bytesReceived || 0), 0),
  };
}
"""


def call_facts(call_window: Any) -> dict[str, Any]:
    return call_window.evaluate(CALL_FACTS_JS)


def wait_for_phase(call_window: Any, phase: str) -> None:
    call_window.wait_for_selector(f'body[data-phase="{phase}"]', timeout=WAIT_MS)


def place_and_answer_call(
    caller: Browser, caller_popup: Any, callee: Browser, callee_popup: Any, callee_email: str
) -> tuple[Any, Any, str]:
    """The caller clicks Call; the callee clicks Accept in its popup. Returns both windows and the call id."""
    with caller.context.expect_page(lambda page: "/call/call.html" in page.url, timeout=WAIT_MS) as caller_window:
        caller_popup.click(f'#contacts li[data-email="{callee_email}"] button.call')
    window_a = caller_window.value
    ringing = callee_popup.wait_for_selector("#incoming-list li[data-call-id]", timeout=WAIT_MS)
    call_id = ringing.get_attribute("data-call-id")
    wait_for_phase(window_a, "ringing")
    notifications = callee.notifications()
    assert list(notifications) == [f"incoming:{call_id}"], notifications
    with callee.context.expect_page(lambda page: "/call/call.html" in page.url, timeout=WAIT_MS) as callee_window:
        # By selector, not the handle above: the popup re-renders its lists on each snapshot.
        callee_popup.click(f'#incoming-list li[data-call-id="{call_id}"] button.accept')
    window_b = callee_window.value
    return window_a, window_b, call_id
