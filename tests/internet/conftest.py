"""The NAT topology for tests/internet: namespaces, our coturn (deploy/Procfile.turn) and, per test,
the Procfile's web and worker processes in the public namespace.

Needs root, `ip`, `iptables` and Debian's coturn: skipped with the reason on a bare machine,
a failure when CI=true (.ci/install-turn installs them).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import IN_CI
from tests.e2e.netns import NamespaceUnavailable, database_ports, forward_ports_into, run_in_named_namespace
from tests.internet.topology import INTERNET_RANGE, SERVER_IP, Internet

REPO = Path(__file__).resolve().parents[2]
WEB_PORT = 8000  # the public namespace is ours: no other process can hold it
TURN_REALM = "turn.numfree.test"
TURN_URLS = [
    f"turn:{SERVER_IP}:3478?transport=udp",
    f"turn:{SERVER_IP}:3478?transport=tcp",
    f"turns:{SERVER_IP}:5349?transport=tcp",
]
STUN_URLS = [f"stun:{SERVER_IP}:3478"]


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and the NAT test cannot run: {reason}")
    pytest.skip(reason)


def procfile_command(procfile: Path, name: str) -> str:
    """The command of one `name: command` line, as honcho would run it."""
    for line in procfile.read_text().splitlines():
        key, sep, command = line.partition(":")
        if sep and key.strip() == name:
            return command.strip()
    raise LookupError(f"no {name}: line in {procfile}")


def wait_for_tcp(namespace: str, port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """Until something accepts on SERVER_IP:port, seen from inside the namespace."""

    def probe() -> bool:
        with contextlib.suppress(OSError), socket.create_connection((SERVER_IP, port), timeout=0.5):
            return True
        return False

    deadline = time.monotonic() + timeout
    while not run_in_named_namespace(namespace, probe):
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"nothing on {SERVER_IP}:{port} after {timeout} s: {log.read_text(errors='replace')[-2000:]}"
            )
        time.sleep(0.1)


@dataclass
class Started:
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def start_in_namespace(namespace: str, command: str, env: dict[str, str], log: Path, *args: str) -> Started:
    """A Procfile command run by sh inside the namespace (its own process group, stopped as one)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace, "sh", "-c", f'{command} "$@"', "sh", *args],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Started(proc, log)


def self_signed_certificate(directory: Path, ip: str) -> tuple[Path, Path]:
    """A certificate for the relay's address (TURN over TLS), valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TURN_REALM)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "turn-cert.pem", directory / "turn-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@dataclass
class Relay:
    """Our coturn in the public namespace, and what a web process needs to hand out its credentials."""

    internet: Internet
    secret: str
    cert: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="session")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    """The internet of tests/internet/topology.py with deploy/Procfile.turn's coturn at SERVER_IP."""
    if not shutil.which("turnserver"):
        unavailable("needs Debian's coturn (apt-get install coturn; .ci/install-turn)")
    internet = Internet()
    try:
        internet.build()
    except NamespaceUnavailable as exc:
        unavailable(f"needs network namespaces: {exc}")
    directory = tmp_path_factory.mktemp("turn")
    cert, key = self_signed_certificate(directory, SERVER_IP)
    secret = base64.b64encode(secrets.token_bytes(32)).decode()  # as `openssl rand -base64 32`: + / =
    env = {
        "PATH": os.environ["PATH"],
        "NUMFREE_TURN_SECRET": secret,
        "NUMFREE_TURN_REALM": TURN_REALM,
        "NUMFREE_TURN_TLS_CERT": str(cert),
        "NUMFREE_TURN_TLS_KEY": str(key),
        "NUMFREE_TURN_LISTEN_IP": SERVER_IP,
        "NUMFREE_TURN_RUN_DIR": str(directory / "run"),
    }
    log = directory / "turnserver.log"
    turn = None
    try:
        command = procfile_command(REPO / "deploy" / "Procfile.turn", "turn")
        # The production ranges stay denied; only this test's own /24 is let through.
        turn = start_in_namespace(internet.public, command, env, log, f"--allowed-peer-ip={INTERNET_RANGE}")
        wait_for_tcp(internet.public, 3478, turn.proc, log)
        wait_for_tcp(internet.public, 5349, turn.proc, log)
        yield Relay(internet, secret, cert, log)
    finally:
        if turn is not None:
            turn.stop()
        internet.destroy()
        assert internet.leftovers() == [], "namespaces left behind"


@dataclass
class PublicServer:
    web: Started
    worker: Started

    @property
    def http_url(self) -> str:
        return f"http://{SERVER_IP}:{WEB_PORT}"

    @property
    def ws_url(self) -> str:
        return f"ws://{SERVER_IP}:{WEB_PORT}/ws/signaling/"


@pytest.fixture
def public_server(relay: Relay, subprocess_env: dict[str, str], tmp_path: Path) -> Iterator[PublicServer]:
    """The Procfile's web: and worker: lines in the public namespace, handing out our STUN/TURN."""
    env = {
        **subprocess_env,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOST": SERVER_IP,
        "PORT": str(WEB_PORT),
        "ALLOWED_HOSTS": SERVER_IP,
        "NUMFREE_PUBLIC_URL": f"http://{SERVER_IP}:{WEB_PORT}",
        "NUMFREE_STUN_URLS": ",".join(STUN_URLS),
        "NUMFREE_TURN_URLS": ",".join(TURN_URLS),
        "NUMFREE_TURN_SECRET": relay.secret,
    }
    procfile = REPO / "Procfile"
    public = relay.internet.public
    with forward_ports_into(public, database_ports(env)):
        web = start_in_namespace(public, procfile_command(procfile, "web"), env, tmp_path / "web.log")
        worker = start_in_namespace(public, procfile_command(procfile, "worker"), env, tmp_path / "worker.log")
        try:
            wait_for_tcp(public, WEB_PORT, web.proc, web.log)
            yield PublicServer(web, worker)
        finally:
            web.stop()
            worker.stop()
