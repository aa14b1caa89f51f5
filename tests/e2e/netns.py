"""Runs part of a browser test inside a loopback-only network namespace (unshare -n, lo up).

The namespace belongs to one thread: processes started from that thread (daphne, the
worker, Playwright's driver and its Chromium) share it, and see only 127.0.0.1. PostgreSQL
and Redis, when the run uses them, are reached through small forwarders: a listener inside
the namespace and a connection made by a thread that stayed outside.

Tests that build several namespaces (`ip netns add`, tests/internet) move a thread into one
of them with `run_in_named_namespace` and forward ports into it with `forward_ports_into`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import queue
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")
CLONE_NEWNET = 0x40000000


class NamespaceUnavailable(Exception):
    """This machine (or this user) cannot create a network namespace."""


class _HostConnector:
    """A thread in the original namespace that opens TCP connections on request."""

    def __init__(self) -> None:
        self.requests: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.requests.get()) is not None:
            port, answer = item
            try:
                answer.put(socket.create_connection(("127.0.0.1", port), timeout=5))
            except OSError as exc:
                answer.put(exc)

    def connect(self, port: int) -> socket.socket:
        answer: queue.Queue = queue.Queue()
        self.requests.put((port, answer))
        result = answer.get(timeout=10)
        if isinstance(result, Exception):
            raise result
        result.settimeout(None)
        return result

    def stop(self) -> None:
        self.requests.put(None)


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Forwarder:
    """127.0.0.1:port inside the namespace -> 127.0.0.1:port outside it."""

    def __init__(self, port: int, connector: _HostConnector) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", port))
        self.listener.listen(64)
        self.port = port
        self.connector = connector
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                inside, _ = self.listener.accept()
            except OSError:
                return
            try:
                outside = self.connector.connect(self.port)
            except OSError:
                inside.close()
                continue
            threading.Thread(target=_pump, args=(inside, outside), daemon=True).start()
            threading.Thread(target=_pump, args=(outside, inside), daemon=True).start()

    def close(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone would leave the port bound until then
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()


def run_in_loopback_namespace(task: Callable[[], T], *, forward_ports: tuple[int, ...] = ()) -> T:
    """Runs task() on a thread moved into a new network namespace with only `lo`, up."""
    connector = _HostConnector()
    outcome: dict[str, object] = {}

    def body() -> None:
        forwarders: list[_Forwarder] = []
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.unshare(CLONE_NEWNET) != 0:
                raise NamespaceUnavailable(f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())}")
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True)
            interfaces = subprocess.run(["ip", "-o", "link"], check=True, capture_output=True, text=True).stdout
            if [line.split(":")[1].strip() for line in interfaces.splitlines()] != ["lo"]:
                raise NamespaceUnavailable(f"the namespace is not loopback-only: {interfaces}")
            forwarders = [_Forwarder(port, connector) for port in forward_ports]
            outcome["value"] = task()
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc
        finally:
            for forwarder in forwarders:
                forwarder.close()
            connector.stop()

    thread = threading.Thread(target=body, name="loopback-netns")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def enter_named_namespace(name: str) -> None:
    """Moves the calling thread (only it) into the network namespace `ip netns add <name>` made."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    except OSError as exc:
        raise NamespaceUnavailable(f"no namespace {name!r}: {exc}") from exc
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise NamespaceUnavailable(f"setns({name}) failed: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)


def run_in_named_namespace(name: str, task: Callable[[], T]) -> T:
    """Runs task() on a new thread inside the named namespace and returns (or raises) its outcome."""
    outcome: dict[str, object] = {}

    def body() -> None:
        try:
            enter_named_namespace(name)
            outcome["value"] = task()
        except BaseException as exc:  # handed to the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=body, name=f"netns-{name}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


@contextlib.contextmanager
def forward_ports_into(name: str, ports: tuple[int, ...]) -> Iterator[None]:
    """127.0.0.1:port inside the named namespace -> 127.0.0.1:port of the host, while the block runs."""
    if not ports:
        yield
        return
    connector = _HostConnector()
    forwarders = run_in_named_namespace(name, lambda: [_Forwarder(port, connector) for port in ports])
    try:
        yield
    finally:
        for forwarder in forwarders:
            forwarder.close()
        connector.stop()


def database_ports(env: dict[str, str]) -> tuple[int, ...]:
    """PostgreSQL and Redis on this machine's loopback (from DATABASE_URL and REDIS_URL), to forward
    into a namespace so the servers started there reach them."""
    ports = []
    for name, default in (("DATABASE_URL", 5432), ("REDIS_URL", 6379)):
        parts = urlsplit(env.get(name, ""))
        if parts.scheme in {"postgres", "postgresql", "redis"} and parts.hostname in {"127.0.0.1", "localhost"}:
            ports.append(parts.port or default)
    return tuple(ports)
