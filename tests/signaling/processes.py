"""Real processes for signaling tests: a private redis-server and daphne web processes on free ports."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]
DAPHNE = str(Path(sys.executable).parent / "daphne")
ORIGIN = settings.PUBLIC_ORIGIN
FAST_TIMERS = {
    "NUMFREE_SIGNALING_AUTH_TIMEOUT_MS": "500",
    "NUMFREE_SIGNALING_INVITE_LIFETIME_MS": "5000",
    "NUMFREE_SIGNALING_RECONNECT_GRACE_MS": "3000",
    "NUMFREE_SIGNALING_PRESENCE_TTL_MS": "1500",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class RedisServer:
    """A redis-server of the test's own on a free port: never the shared one."""

    def __init__(self) -> None:
        if not shutil.which("redis-server"):
            pytest.skip("needs redis-server (apt-get install redis-server)")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


@contextlib.contextmanager
def private_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Daphne:
    def __init__(self, env: dict[str, str], extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.log = Path(os.environ.get("TMPDIR", "/tmp")) / f"numfree-daphne-{self.port}.log"
        full_env = {**env, **FAST_TIMERS, **(extra_env or {})}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    DAPHNE,
                    "-e",
                    f"tcp:port={self.port}:interface=127.0.0.1:backlog=1024",
                    "--websocket-max-message-size",
                    "65536",
                    "--websocket_timeout",
                    "-1",
                    "--access-log",
                    "/dev/null",
                    "numfree.asgi:application",
                ],
                cwd=REPO,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for_port(self.port, self.proc)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/signaling/"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        stop(self.proc)


@contextlib.contextmanager
def daphnes(env: dict[str, str], count: int, extra_env: dict[str, str] | None = None) -> Iterator[list[Daphne]]:
    started: list[Daphne] = []
    try:
        for _ in range(count):
            started.append(Daphne(env, extra_env))
        yield started
    finally:
        for process in started:
            process.stop()


class Socket:
    """A `websockets` client speaking the signaling protocol."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, origin: str = ORIGIN) -> Socket:
        import websockets

        return cls(await websockets.connect(url, origin=origin, max_size=2**22, open_timeout=5))

    @classmethod
    async def authed(cls, url: str, token: str, device: str) -> Socket:
        sock = await cls.open(url)
        await sock.send({"type": "auth", "token": token, "device_id": device})
        assert (await sock.recv_type("auth.ok"))["type"] == "auth.ok"
        sock.snapshot = await sock.recv_type("presence.snapshot")
        return sock

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        import asyncio

        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def recv_type(self, kind: str, timeout: float = 5) -> dict[str, Any]:
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == kind:
                return frame
            if not frame["type"].startswith("presence."):
                raise AssertionError(f"expected {kind}, got {frame}")

    async def close_code(self, timeout: float = 7) -> int:
        import asyncio

        import websockets

        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(self.ws.recv(), timeout)
        return self.ws.close_code

    async def close(self) -> None:
        await self.ws.close()
