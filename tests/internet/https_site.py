"""The production topology on 127.0.0.1 for test_https_proxy.py: a throwaway CA and certificate,
deploy/proxy (nginx) terminating TLS in front of two web processes (the Procfile's web: line through
deploy/procfile-run), in production mode (DEBUG=0) on the test's PostgreSQL database and Redis.

Twilio and Stripe are the local fakes (NUMFREE_FAKE_PROVIDERS=1); their callbacks reach the proxy
over https, trusting the test CA through SSL_CERT_FILE.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from requests.adapters import HTTPAdapter

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
EXTENSION_ID = "lcfnpmfgjjhjcpnhpinojcpgakoaaonk"  # the dev build's id (its manifest key is fixed)
LOGIN_RATE = "3/m"


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate chain, server key): a CA made for this run, valid a day."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "NumFree test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, chain_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(_pem(key))
    key_path.chmod(0o600)
    return ca_path, chain_path, key_path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def production_env(
    *, database_url: str, redis_url: str, secret_key: str, public_url: str, fakes_db: Path, ca: Path, static: Path
) -> dict[str, str]:
    """What an operator sets (docs/deploy.md), plus the fakes switch and the test CA."""
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "LANG": "C.UTF-8",
        "DEBUG": "0",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": HOST,
        "NUMFREE_PUBLIC_URL": public_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "EMAIL_HOST": HOST,
        "EMAIL_HOST_USER": "numfree",
        "EMAIL_HOST_PASSWORD": "not-used-by-web-processes",
        "NUMFREE_EXTENSION_IDS": EXTENSION_ID,
        "NUMFREE_TRUSTED_PROXY_COUNT": "1",
        "NUMFREE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
        "NUMFREE_STATIC_ROOT": str(static),
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "f" * 32,
        "STRIPE_SECRET_KEY": "sk_live_" + "0" * 24,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + "0" * 32,
        "STRIPE_PRICE_MONTHLY": "price_monthly",
        "STRIPE_PRICE_YEARLY": "price_yearly",
        # Only for this test: the SDKs reach the local fakes, never Twilio or Stripe.
        "NUMFREE_FAKE_PROVIDERS": "1",
        "NUMFREE_FAKES_DB": str(fakes_db),
        "SSL_CERT_FILE": str(ca),
        "NUMFREE_RATE_LOGIN_IP": LOGIN_RATE,
        # The worker's emails go nowhere (EMAIL_HOST above is still required by production mode).
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "NUMFREE_WORKER_POLL_SECONDS": "0.2",
    }


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def terminate(self, timeout: float = 15) -> float:
        """SIGTERM, as systemd or a Procfile platform stops a process; seconds until it exited."""
        started = time.monotonic()
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        return time.monotonic() - started


def start(command: list[str], env: dict[str, str], log: Path) -> Process:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Process(proc, log)


def wait_until_healthy(url: str, process: Process, *, verify: str | bool = False, timeout: float = 30) -> None:
    session = requests.Session()
    session.trust_env = False
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(requests.RequestException):
            if session.get(url, timeout=2, verify=verify, allow_redirects=False).status_code == 200:
                return
        if not process.alive():
            raise RuntimeError(f"exited with {process.proc.returncode}: {process.log_text()[-3000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not healthy after {timeout} s: {process.log_text()[-3000:]}")
        time.sleep(0.1)


class SourceAddressAdapter(HTTPAdapter):
    """Connections from one loopback address (127.0.0.2, 127.0.0.3): two distinct clients."""

    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class Site:
    """The proxy and its two web processes; `web` is indexed like `web_ports`."""

    directory: Path
    env: dict[str, str]
    ca: Path
    https_port: int
    http_port: int
    web_ports: list[int]
    proxy: Process | None = None
    worker: Process | None = None
    web: list[Process] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def client(self, source: str) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy or CA bundle from the environment: the test CA only
        session.mount("https://", SourceAddressAdapter(source))
        session.mount("http://", SourceAddressAdapter(source))
        session.verify = str(self.ca)
        return session

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    def start_web(self, index: int) -> Process:
        port = self.web_ports[index]
        env = {**self.env, "PORT": str(port), "HOST": HOST}
        process = start(["deploy/procfile-run", "web"], env, self.directory / f"web-{port}.log")
        # Straight to the process over plain HTTP, as a health probe would (SECURE_REDIRECT_EXEMPT).
        wait_until_healthy(f"http://{HOST}:{port}/healthz", process)
        if index < len(self.web):
            self.web[index] = process
        else:
            self.web.append(process)
        return process

    def start_worker(self) -> None:
        self.worker = start(["deploy/procfile-run", "worker"], self.env, self.directory / "worker.log")

    def start_proxy(self) -> None:
        env = {
            **self.env,
            "NUMFREE_PROXY_TLS_CERT": str(self.directory / "server.pem"),
            "NUMFREE_PROXY_TLS_KEY": str(self.directory / "server-key.pem"),
            "NUMFREE_PROXY_LISTEN": f"{HOST}:{self.https_port}",
            "NUMFREE_PROXY_HTTP_LISTEN": f"{HOST}:{self.http_port}",
            "NUMFREE_PROXY_UPSTREAMS": ",".join(f"{HOST}:{port}" for port in self.web_ports),
            "NUMFREE_PROXY_RUN_DIR": str(self.directory / "proxy"),
            "NUMFREE_PROXY_ACME_ROOT": str(self.directory / "acme"),
            # The test's directory is private to root: the workers run as root to reach their buffers.
            "NUMFREE_PROXY_USER": "root",
        }
        self.proxy = start([str(REPO / "deploy" / "proxy")], env, self.directory / "proxy.log")
        wait_until_healthy(self.url("/healthz"), self.proxy, verify=str(self.ca))

    def manage(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env if env is None else env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.terminate()
        if self.worker is not None:
            self.worker.terminate()
        for process in self.web:
            process.terminate()
