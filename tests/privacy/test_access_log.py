"""The web server's own access log records neither client IPs nor full URLs: the Procfile's web command, run for real."""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

PROCFILE = Path(settings.BASE_DIR) / "Procfile"
WAIT_SECONDS = 60
PROBE = "access-log-probe-7c1e"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_command(port: int) -> list[str]:
    """The Procfile's `web:` line with PORT and HOST filled in, its program taken from this virtualenv."""
    line = next(line for line in PROCFILE.read_text().splitlines() if line.startswith("web:"))
    command = re.sub(r"\$\{PORT(?::-[^}]*)?\}|\$PORT\b", str(port), line.removeprefix("web:").strip())
    command = re.sub(r"\$\{HOST(?::-[^}]*)?\}|\$HOST\b", "127.0.0.1", command)
    assert "$" not in command, f"an environment variable the test does not fill in: {command}"
    words = shlex.split(command)
    words[0] = shutil.which(words[0], path=str(Path(sys.executable).parent)) or words[0]
    return words


def _wait_until_listening(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the web process exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.1)
    raise AssertionError(f"the web process did not listen within {WAIT_SECONDS} s:\n{log.read_text()}")


@pytest.mark.django_db(transaction=True)
def test_the_web_servers_own_access_log_records_neither_client_ips_nor_full_urls(subprocess_env, tmp_path):
    port = _free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as output:
        web = subprocess.Popen(
            web_command(port), cwd=settings.BASE_DIR, env=subprocess_env, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_listening(web, port, log)
        for path in (f"/privacy/?q={PROBE}", f"/healthz?probe={PROBE}"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as response:
                assert response.status == 200
    finally:
        web.terminate()
        try:
            web.wait(timeout=10)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait(timeout=10)
    printed = log.read_text(errors="replace")
    assert "Listening on TCP address" in printed  # it is daphne's output we read
    assert PROBE not in printed and "/privacy/" not in printed and "/healthz" not in printed
    # The address appears only where daphne names the endpoint it listens on, never for a client.
    client_lines = [
        line
        for line in printed.splitlines()
        if "127.0.0.1" in line and f"port={port}" not in line and f":{port}" not in line
    ]
    assert client_lines == []
