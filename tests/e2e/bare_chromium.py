"""Chromium driven over a bare DevTools connection that never attaches to the extension's
service worker, for the tests where Chrome must be free to stop that worker.

Playwright attaches to every service worker (that is how it lists them), and Chrome never stops
an idle worker while DevTools is attached to it: under Playwright an extension worker lives
forever, so a test of what happens when Chrome stops it could not fail. Here the browser-level
session only *discovers* targets (`Target.setDiscoverTargets`), which records every start and
stop of the worker without keeping it alive, and attaches to the pages it drives only.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import queue
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

from tests.e2e.harness import CHROMIUM, CHROMIUM_FLAGS, EXTENSION_ID

DEBUG_PORT = 9222


@dataclass
class WorkerLife:
    """Starts and stops of the extension's service worker, as the browser reported them."""

    events: list[tuple[float, str]] = field(default_factory=list)
    running: set[str] = field(default_factory=set)

    def starts(self, since: float = 0.0) -> int:
        return sum(1 for at, what in self.events if what == "started" and at >= since)

    def stops(self, since: float = 0.0) -> int:
        return sum(1 for at, what in self.events if what == "stopped" and at >= since)


class BareChromium:
    """One Chromium with the extension loaded; `evaluate` runs JavaScript in an extension page."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.answers: dict[int, queue.Queue] = {}
        self.worker = WorkerLife()
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with contextlib.suppress(Exception):
            for raw in self.socket:
                message = json.loads(raw)
                if "id" in message:
                    self.answers.pop(message["id"]).put(message)
                else:
                    self._event(message)

    def _event(self, message: dict[str, Any]) -> None:
        params = message.get("params", {})
        if message["method"] in {"Target.targetCreated", "Target.targetInfoChanged"}:
            info = params["targetInfo"]
            if (
                info["type"] == "service_worker"
                and EXTENSION_ID in info["url"]
                and info["targetId"] not in self.worker.running
            ):
                self.worker.running.add(info["targetId"])
                self.worker.events.append((time.monotonic(), "started"))
        elif message["method"] == "Target.targetDestroyed" and params["targetId"] in self.worker.running:
            self.worker.running.discard(params["targetId"])
            self.worker.events.append((time.monotonic(), "stopped"))

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        ident = next(self.ids)
        answer: queue.Queue = queue.Queue()
        self.answers[ident] = answer
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        with self.lock:
            self.socket.send(json.dumps(message))
        reply = answer.get(timeout=60)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def open_page(self, path: str) -> str:
        """Opens chrome-extension://<id>/<path> in a tab; returns the session to evaluate in it."""
        target = self.send("Target.createTarget", {"url": f"chrome-extension://{EXTENSION_ID}/{path}"})["targetId"]
        return self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}, session
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, session: str, expression: str, timeout_s: float) -> float:
        """Polls until `expression` is truthy in the page; returns when (time.monotonic())."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(RuntimeError):
                if self.evaluate(session, expression):
                    return time.monotonic()
            time.sleep(0.25)
        raise AssertionError(f"not true within {timeout_s} s: {expression}")


@contextlib.contextmanager
def bare_chromium(extension: Path, profile: Path) -> Iterator[BareChromium]:
    command = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--remote-debugging-port={DEBUG_PORT}",
        f"--disable-extensions-except={extension}",
        f"--load-extension={extension}",
        "--disable-features=DisableLoadExtensionCommandLineSwitch",
        "about:blank",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{DEBUG_PORT}/json/version", timeout=2) as answer:
                    endpoint = json.load(answer)["webSocketDebuggerUrl"]
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("Chromium did not open its DevTools port") from None
                time.sleep(0.2)
        with connect(endpoint, max_size=None, open_timeout=10) as socket:
            browser = BareChromium(socket)
            browser.send("Target.setDiscoverTargets", {"discover": True})
            yield browser
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
