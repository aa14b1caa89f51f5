"""The production shape on one machine, for fault tests: a PRIVATE PostgreSQL (initdb into a temp
dir, port 55432+) and a PRIVATE redis-server (port 56379+), two processes of the Procfile's `web:`
line and two of its `worker:` line (run by deploy/procfile-run, as the systemd units do), in
production mode (DEBUG=0) with the local fakes of Twilio and Stripe (NUMFREE_FAKE_PROVIDERS=1).
Emails go to files in a directory (tests/telephony/mail_to_directory.py) where they are counted.

    top = Topology.start(tmp_dir)             # or the session fixture `topology` (tests/faults/conftest.py)
    top.postgres.stop() / .start() / .restart()          # pg_ctl -m fast; start waits until it accepts
    top.redis.stop() / .start() / .restart()
    top.web[0].kill() / .terminate() / .restart()        # kill -9, SIGTERM, start again (and wait healthy)
    top.worker.kill() / .terminate() / .restart()        # the first of top.workers (two run)
    number = top.number                       # the E.164 number of the test account (bought at setup)
    stream = top.sms_stream("pg-stop", number, count=200)
    stream.send(index, web=0)                 # Twilio receives a text, then POSTs its signed webhook
    stream.run(targets=lambda i: i % 2, every=0.02, during=callback)   # the whole stream, fault alongside
    stream.accepted / stream.sent / stream.refused                      # tokens by outcome
    top.wait_delivered(stream.sent, timeout=60) -> {token: emails}     # emails counted per token
    top.left_at_twilio() -> int               # inbound texts still held by the fake Twilio
    top.stop()

A text's body carries a unique token (`fault:<label>:<index>:`), so each email can be counted.
Every wait has a deadline. Logs of each process are in the topology's directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.test import override_settings
from twilio.request_validator import RequestValidator

from tests.internet.https_site import Process, start, wait_until_healthy

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
PG_PORTS = range(55432, 55440)
REDIS_PORTS = range(56379, 56390)
SECRET_KEY = "fault-suite-" + "k" * 52
SMS_PATH = "/webhooks/twilio/sms/"
TOKEN = re.compile(rb"fault:([a-z0-9-]+):(\d+):")


def initdb_path() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return found[-1] if found else shutil.which("initdb")


def missing_tools() -> list[str]:
    """What this machine lacks to run the fault suite (empty: it can run)."""
    missing = []
    if initdb_path() is None:
        missing.append("initdb/pg_ctl (apt-get install postgresql)")
    if shutil.which("redis-server") is None:
        missing.append("redis-server (apt-get install redis-server)")
    return missing


def _port_from(candidates: range) -> int:
    for port in candidates:
        with socket.socket() as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {candidates}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _wait_port(port: int, *, up: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                listening = True
        except OSError:
            listening = False
        if listening == up:
            return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} still {'closed' if up else 'open'} after {timeout} s")


def _as_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres system user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PostgresServer:
    """A PostgreSQL cluster of the suite's own (trust auth, no fsync: it is thrown away)."""

    def __init__(self, directory: Path) -> None:
        initdb = initdb_path()
        assert initdb is not None
        self.bin = Path(initdb).parent
        self.data = directory / "pgdata"
        self.log = directory / "postgres.log"
        self.port = _port_from(PG_PORTS)
        directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres")
            for parent in directory.parents:  # the postgres user must reach its data directory
                if str(parent).startswith(("/tmp", str(REPO))) and parent != Path("/tmp"):
                    os.chmod(parent, os.stat(parent).st_mode | 0o711)
        subprocess.run(
            _as_user([str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"]),
            check=True,
            capture_output=True,
            timeout=120,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@{HOST}:{self.port}/numfree"

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses={HOST} -c fsync=off -c max_connections=200"
        subprocess.run(
            _as_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        self._ctl("-w", "start")
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")
        _wait_port(self.port, up=False)

    def restart(self) -> None:
        self._ctl("-w", "-m", "fast", "restart")
        _wait_port(self.port, up=True)

    def create_database(self) -> None:
        subprocess.run(
            [str(self.bin / "createdb"), "-h", HOST, "-p", str(self.port), "-U", "postgres", "numfree"],
            check=True,
            capture_output=True,
            timeout=60,
        )


class RedisServer:
    """A redis-server of the suite's own; no persistence (as a cache and channel layer it needs none)."""

    def __init__(self, directory: Path) -> None:
        self.port = _port_from(REDIS_PORTS)
        self.log = directory / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_port(self.port, up=True)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
        _wait_port(self.port, up=False)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class ProcfileProcess:
    """One process of a Procfile line (`web` or `worker`); `restart` waits until a web one is healthy."""

    line: str
    env: dict[str, str]
    log: Path
    port: int | None = None
    process: Process | None = None

    def start(self) -> None:
        env = {**self.env, **({"PORT": str(self.port), "HOST": HOST} if self.port else {})}
        self.process = start([str(REPO / "deploy" / "procfile-run"), self.line], env, self.log)
        if self.port:
            wait_until_healthy(f"http://{HOST}:{self.port}/healthz", self.process, timeout=60)

    def alive(self) -> bool:
        return self.process is not None and self.process.alive()

    def kill(self) -> None:
        """kill -9: no shutdown, requests in flight are cut."""
        if self.alive():
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.proc.pid, signal.SIGKILL)
            self.process.proc.wait(10)

    def terminate(self) -> float:
        """SIGTERM (as systemd stops it); seconds until it exited."""
        return self.process.terminate() if self.process is not None else 0.0

    def restart(self) -> None:
        if self.alive():
            self.terminate()
        self.start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass
class SmsStream:
    """Signed inbound texts, as Twilio sends them: the text is at the fake Twilio first, then its webhook."""

    topology: Topology
    label: str
    number: str
    count: int
    sent: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    sent_at: dict[str, float] = field(default_factory=dict)
    session: requests.Session = field(default_factory=requests.Session)

    def token(self, index: int) -> str:
        return f"fault:{self.label}:{index}:"

    def send(self, index: int, web: int) -> bool:
        """Twilio receives text `index` and POSTs it once to web process `web` (Twilio does not retry)."""
        top = self.topology
        body = f"{self.token(index)} hello from the fault suite"
        sender = f"+1415555{index % 10000:04d}"
        with top.as_twilio():
            from telephony import twilio_fake

            sid, _urls = twilio_fake.receive_message(top.account_sid, sender, self.number, body=body)
        params = {
            "ToCountry": "US",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": body,
            "To": self.number,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": top.account_sid,
            "From": sender,
            "ApiVersion": "2010-04-01",
        }
        signature = RequestValidator(top.auth_token).compute_signature(top.public_url + SMS_PATH, params)
        token = self.token(index)
        self.sent.append(token)
        self.sent_at[token] = time.time()
        try:
            response = self.session.post(
                top.web[web].url + SMS_PATH,
                data=params,
                headers={"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https"},
                timeout=15,
            )
        except requests.RequestException as exc:
            self.refused[token] = type(exc).__name__
            return False
        if response.status_code == 200:
            self.accepted.append(token)
            return True
        self.refused[token] = str(response.status_code)
        return False

    def run(
        self,
        targets: Callable[[int], int],
        *,
        every: float = 0.02,
        during: Callable[[], None] | None = None,
        start_fault_at: int = 40,
    ) -> None:
        """Send the whole stream (`targets(i)`: which web process gets text i); `during` runs in a
        thread from text `start_fault_at` on (the fault), and is joined before this returns."""
        fault: threading.Thread | None = None
        errors: list[BaseException] = []

        def guarded() -> None:
            try:
                assert during is not None
                during()
            except BaseException as exc:  # reported in the test's thread
                errors.append(exc)

        for index in range(self.count):
            if during is not None and index == start_fault_at:
                fault = threading.Thread(target=guarded, daemon=True)
                fault.start()
            self.send(index, targets(index))
            time.sleep(every)
        if fault is not None:
            fault.join(120)
            assert not fault.is_alive(), "the fault did not finish within 120 s"
        if errors:
            raise errors[0]


@dataclass
class Row:
    fault: str
    sent: int
    delivered: int
    lost: int
    duplicated: int
    recovery: float | None

    def line(self) -> str:
        recovery = "-" if self.recovery is None else f"{self.recovery:.1f}"
        return (
            f"{self.fault:<44} {self.sent:>5} {self.delivered:>9} {self.lost:>5} {self.duplicated:>10} {recovery:>10}"
        )


HEADER = f"{'fault':<44} {'sent':>5} {'delivered':>9} {'lost':>5} {'duplicated':>10} {'recovery s':>10}"


class Topology:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.mail_dir = directory / "mail"
        self.data_dir = directory / "data"
        self.fakes_db = directory / "fakes.sqlite3"
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.postgres = PostgresServer(directory / "pg")
        self.redis = RedisServer(directory)
        self.web_ports = [_free_port(), _free_port()]
        self.public_url = f"https://{HOST}:{self.web_ports[0]}"
        self.env = self._env()
        self.web = [ProcfileProcess("web", self.env, directory / f"web-{port}.log", port) for port in self.web_ports]
        # Two of the worker line, as production runs M of them; `worker` is the one faults hit.
        self.workers = [ProcfileProcess("worker", self.env, directory / f"worker-{n}.log") for n in (1, 2)]
        self.worker = self.workers[0]
        self.number = ""
        self.account_sid, self.auth_token = self._fake_credentials()

    def _env(self) -> dict[str, str]:
        return {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "LANG": "C.UTF-8",
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": HOST,
            "NUMFREE_PUBLIC_URL": self.public_url,
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "NUMFREE_DATA_DIR": str(self.data_dir),
            "NUMFREE_EXTENSION_IDS": "lcfnpmfgjjhjcpnhpinojcpgakoaaonk",
            "NUMFREE_TRUSTED_PROXY_COUNT": "1",
            "NUMFREE_PROXY_SSL_HEADER": "X-Forwarded-Proto: https",
            "NUMFREE_STATIC_ROOT": str(self.directory / "static"),
            "EMAIL_HOST": HOST,
            "EMAIL_HOST_USER": "numfree",
            "EMAIL_HOST_PASSWORD": "not-used",
            "EMAIL_BACKEND": "tests.telephony.mail_to_directory.DirectoryEmailBackend",
            "NUMFREE_TEST_MAIL_DIR": str(self.mail_dir),
            "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
            "TWILIO_AUTH_TOKEN": "f" * 32,
            "STRIPE_SECRET_KEY": "sk_live_" + "0" * 24,
            "STRIPE_WEBHOOK_SECRET": "whsec_" + "0" * 32,
            "STRIPE_PRICE_MONTHLY": "price_monthly",
            "STRIPE_PRICE_YEARLY": "price_yearly",
            # Only for this suite: the SDKs reach the local fakes, never Twilio or Stripe.
            "NUMFREE_FAKE_PROVIDERS": "1",
            "NUMFREE_FAKES_DB": str(self.fakes_db),
            "NUMFREE_WORKER_POLL_SECONDS": "0.2",
            "NUMFREE_OUTBOX_BACKOFF_BASE_SECONDS": "0.2",
            "NUMFREE_OUTBOX_BACKOFF_MAX_SECONDS": "1",
            # The reconciliation runs every few seconds here (60 s in production, docs/operations.md).
            "NUMFREE_SMS_RECONCILE_SECONDS": "5",
        }

    def _fake_credentials(self) -> tuple[str, str]:
        with self.as_twilio():
            from telephony import twilio_api

            return twilio_api.account_sid(), twilio_api.auth_token()

    def as_twilio(self) -> override_settings:
        """This (test) process acts as the suite's fake Twilio: its store and its credentials."""
        return override_settings(SECRET_KEY=SECRET_KEY, TWILIO_FAKE=True, FAKES_DB=self.fakes_db)

    @classmethod
    def start(cls, directory: Path) -> Topology:
        top = cls(directory)
        try:
            top.postgres.start()
            top.postgres.create_database()
            top.redis.start()
            top.manage("migrate", "--noinput", "-v", "0")
            top.number = top._set_up_account()
            for web in top.web:
                web.start()
            for worker in top.workers:
                worker.start()
        except BaseException:
            top.stop()
            raise
        return top

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed: {done.stdout[-2000:]}{done.stderr[-3000:]}")
        return done.stdout

    def _set_up_account(self) -> str:
        """A paying user with a number bought at the fake Twilio; returns the number."""
        script = (
            "from accounts.models import User\n"
            "from billing.models import BillingAccount\n"
            "from telephony import twilio_api\n"
            "from telephony.models import PhoneNumber\n"
            "user = User.objects.create_user(email='faults@example.com', password='x' * 20, email_verified=True)\n"
            "BillingAccount.objects.create(user=user, status='active', plan='monthly', had_service=True)\n"
            "bought = twilio_api.buy_number(twilio_api.search_numbers('US', '415')[0].e164)\n"
            "PhoneNumber.objects.create(user=user, e164=bought.e164, twilio_sid=bought.sid, country='US')\n"
            "print('NUMBER', bought.e164)\n"
        )
        out = self.manage("shell", "-c", script)
        return out.split("NUMBER", 1)[1].split()[0]

    def sms_stream(self, label: str, number: str, count: int) -> SmsStream:
        return SmsStream(self, label, number, count)

    # --- what came out -----------------------------------------------------------
    def emails(self, label: str) -> tuple[Counter[str], dict[str, float]]:
        """Emails per token of this stream, and when each token's first email was written (mtime)."""
        counts: Counter[str] = Counter()
        first: dict[str, float] = {}
        for path in self.mail_dir.iterdir():
            with contextlib.suppress(FileNotFoundError):
                content, mtime = path.read_bytes(), path.stat().st_mtime
                for match in TOKEN.finditer(content):
                    if match[1].decode() != label:
                        continue
                    token = f"fault:{label}:{int(match[2])}:"
                    counts[token] += 1
                    first[token] = min(first.get(token, mtime), mtime)
        return counts, first

    def wait_delivered(self, stream: SmsStream, timeout: float = 90) -> Counter[str]:
        """Poll the mail directory until every sent text was emailed (or the deadline); emails per token."""
        deadline = time.monotonic() + timeout
        while True:
            counts, _first = self.emails(stream.label)
            if all(counts[token] for token in stream.sent) or time.monotonic() > deadline:
                return counts
            time.sleep(0.25)

    def left_at_twilio(self, timeout: float = 30) -> int:
        """Inbound texts the fake Twilio still holds, once NumFree's deletions had `timeout` to finish."""
        deadline = time.monotonic() + timeout
        while True:
            with self.as_twilio():
                from numfree import fake_store

                left = len(fake_store.find("twilio", "message", direction="inbound"))
            if left == 0 or time.monotonic() > deadline:
                return left
            time.sleep(0.25)

    def row(self, fault: str, stream: SmsStream, fault_ended_wall: float, counts: Counter[str]) -> Row:
        """One line of the table; recovery: seconds from the fault's end (`time.time()`) until the
        last text sent before then was emailed (None if one was never emailed)."""
        _counts, first = self.emails(stream.label)
        delivered = sum(1 for token in stream.sent if counts[token])
        duplicated = sum(1 for token in stream.sent if counts[token] > 1)
        before = [token for token in stream.sent if stream.sent_at[token] <= fault_ended_wall]
        if all(token in first for token in before):
            recovery = max([first[token] for token in before], default=fault_ended_wall) - fault_ended_wall
            recovery = max(0.0, recovery)
        else:
            recovery = None
        return Row(fault, len(stream.sent), delivered, len(stream.sent) - delivered, duplicated, recovery)

    def stop(self) -> None:
        for process in [*self.workers, *self.web]:
            with contextlib.suppress(Exception):
                process.terminate()
        with contextlib.suppress(Exception):
            self.redis.stop()
        with contextlib.suppress(Exception):
            self.postgres.stop()
