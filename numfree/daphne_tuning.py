"""daphne's WebSocket connections: freed at once when closed, and cheaper to open.

The web process freezes long-lived objects out of the garbage collector's
reach (numfree/gc_pauses.py), so anything a closed socket leaves in a
reference cycle waits for the hourly full pass: memory grew by ~15 MB per
1,000 sockets opened and closed. Found with gc.DEBUG_SAVEALL over
connect/close cycles of the real consumer under daphne, each socket left
three cycles; ours (the consumer's cancelled mailbox task) is fixed in
signaling/websocket.py, and these two are daphne's and autobahn's:

- autobahn resolves the protocol's `is_closed` Deferred with the protocol
  itself (protocol -> Deferred -> protocol), holding the protocol, its
  transport, buffers, UTF-8 validator and masker;
- daphne's upgrade leaves the HTTP request in its channel's `requests`
  (channel -> request -> channel), holding the handshake's headers and body.

Both are cut once nothing needs them: `is_closed` is replaced by an already
resolved Deferred without the protocol after the connection is lost, and the
upgraded request is dropped from its channel (the channel no longer owns the
transport: daphne handed it to the WebSocket protocol). Subclasses installed
where daphne looks them up; nothing changes without daphne (uvicorn, tests'
in-process communicator). Also here: connections reaped as they close rather
than by daphne's once-a-second walk over all of them (`_reap_on_events`), its 2-second walk for
timeouts and pings spread over the 2 seconds (`_spread_timeout_walk`), handshakes without autobahn's per-socket
copy of its options, frames sent at once instead of through Twisted's writer
registration (`_write_at_once`), and a list instead of an asyncio.Queue as a
socket's inbox (`_Inbox`). tests/signaling/test_socket_memory.py counts the
objects by type over connect/close cycles with the production GC settings.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import inspect
import sys
import time
import types
from typing import Any

from twisted.internet import defer

_NO_HEADERS: Any = types.MappingProxyType({})


class _Path:
    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


def install() -> None:
    """Idempotent; call at import time of the ASGI app (daphne imports it before it listens)."""
    ws_protocol = sys.modules.get("daphne.ws_protocol")
    http_protocol = sys.modules.get("daphne.http_protocol")
    if ws_protocol is None or http_protocol is None:
        return
    factory = ws_protocol.WebSocketFactory
    if not getattr(factory.protocol, "_numfree_acyclic", False):

        class WebSocketProtocol(factory.protocol):  # type: ignore[misc, name-defined]
            _numfree_acyclic = True
            _numfree_options: Any = None
            # autobahn copies ~40 options from the factory onto every connection and pretty-prints
            # them for a debug log line that is never shown: 15% of a handshake's CPU and an
            # instance dict of 40 more entries per socket. The options are the factory's, set
            # once before daphne listens: here they are class attributes, copied once.
            CONFIG_ATTRS = ()
            _FACTORY_OPTIONS = factory.protocol.CONFIG_ATTRS

            def _connectionMade(self) -> None:
                cls = type(self)
                if cls._numfree_options is not self.factory:
                    for name in self._FACTORY_OPTIONS:
                        value = getattr(self.factory, name)  # a function (perMessageCompressionAccept) stays one
                        setattr(cls, name, staticmethod(value) if inspect.isfunction(value) else value)
                    cls._numfree_options = self.factory
                super()._connectionMade()
                # autobahn's queue (a deque, ~700 B a socket) is for sync or chopped sends, which
                # daphne never makes; an empty tuple answers its len() checks until one comes.
                self.send_queue = ()

            def sendData(self, data: bytes, sync: bool = False, chopsize: int | None = None) -> None:
                if not sync and not chopsize and not self.send_queue:
                    # autobahn's own path for this case, without its per-frame debug line whose
                    # arguments (hltype, hlval) are formatted even though the line is never shown.
                    self.transport.write(data)
                    return
                if not isinstance(self.send_queue, collections.deque):
                    self.send_queue = collections.deque()
                super().sendData(data, sync, chopsize)

            def onOpen(self) -> None:
                super().onOpen()
                # The opening handshake's raw request and response and parsed headers stay on the
                # protocol for the socket's life (~1 KB); nothing reads them once it is open (the
                # ASGI scope has its own copy of the headers).
                self.http_request_data, self.http_response_data, self.http_status_line = b"", "", ""
                self._wskey = ""
                self.http_headers = _NO_HEADERS
                self.http_request_params = _NO_HEADERS
                self.request = _Path(self.request.path)  # daphne's log lines read only its path

            def connectionLost(self, reason: Any) -> None:
                super().connectionLost(reason)
                self.is_closed = defer.succeed(None)

        factory.protocol = WebSocketProtocol
    if not getattr(http_protocol.WebRequest, "_numfree_acyclic", False):

        class WebRequest(http_protocol.WebRequest):  # type: ignore[misc, name-defined]
            _numfree_acyclic = True

            def process(self) -> None:
                super().process()
                channel = self.channel
                if self.transport is None and channel is not None and self in channel.requests:
                    channel.requests.remove(self)  # upgraded: the WebSocket protocol has the transport

        http_protocol.WebRequest = WebRequest
    _write_at_once()
    _light_inboxes()


class _Inbox:
    """A socket's incoming ASGI messages: all daphne and the application use of an asyncio.Queue
    (put_nowait, get), in a list: an asyncio.Queue is four deques (~2.5 KB) and an Event per socket."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[dict[str, Any]] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: dict[str, Any]) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> dict[str, Any]:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


def _light_inboxes() -> None:
    server_module = sys.modules.get("daphne.server")
    if server_module is None or getattr(server_module.Server.create_application, "_numfree_light", False):
        return
    original = server_module.Server.create_application

    def create_application(self: Any, protocol: Any, scope: dict[str, Any]) -> Any:
        """daphne's, with an _Inbox for a WebSocket's queue (HTTP keeps daphne's own), and the
        application's end reported to the reaper (see _reap_on_events)."""
        if scope.get("type") != "websocket":
            queue = original(self, protocol, scope)
        else:
            assert "application_instance" not in self.connections[protocol]
            queue = _Inbox()
            scope.setdefault("asgi", {"version": "3.0"})
            send = functools.partial(self.handle_reply, protocol)
            instance = self.application(scope=scope, receive=queue.get, send=send)
            if protocol not in self.connections:
                return None
            self.connections[protocol]["application_instance"] = asyncio.ensure_future(instance)
        future = self.connections.get(protocol, {}).get("application_instance")
        if future is not None:
            future.add_done_callback(lambda _: _pending(self).add(protocol))
        return queue

    create_application._numfree_light = True  # type: ignore[attr-defined]
    server_module.Server.create_application = create_application
    _reap_on_events(server_module)


def _pending(server: Any) -> set[Any]:
    """Connections that may need the reaper: disconnected, or whose application ended."""
    pending = server.__dict__.get("_numfree_pending")
    if pending is None:
        pending = server.__dict__["_numfree_pending"] = set()
    return pending


def _reap_on_events(server_module: Any) -> None:
    """daphne's `application_checker` walks every connection once a second to find the few that
    closed or whose application ended: 25-56 ms per pass at 5,000 sockets, a stall every socket's
    frames wait behind. Here it looks only at connections that disconnected or whose application
    ended since (reported by `protocol_disconnected` and the application's done callback), and
    does to each exactly what daphne's pass does (kill an application that outlived
    application_close_timeout, log its exception, forget the connection)."""
    server_class = server_module.Server
    original_disconnected = server_class.protocol_disconnected

    def protocol_disconnected(self: Any, protocol: Any) -> None:
        original_disconnected(self, protocol)
        _pending(self).add(protocol)

    def application_checker(self: Any) -> None:
        pending = _pending(self)
        for protocol in list(pending):
            details = self.connections.get(protocol)
            if details is None:
                pending.discard(protocol)
                continue
            _check_one(self, server_module, protocol, details)
            if protocol not in self.connections or (
                "application_instance" not in details and "disconnected" not in details
            ):
                pending.discard(protocol)
        server_module.reactor.callLater(1, self.application_checker)

    server_class.protocol_disconnected = protocol_disconnected
    server_class.application_checker = application_checker
    _spread_timeout_walk(server_module)


WALK_S = 2.0  # daphne's: every connection's timeouts (and a WebSocket's ping) checked this often
WALK_STEPS = 20


def _spread_timeout_walk(server_module: Any) -> None:
    """daphne's `timeout_checker` checks every connection's timeouts, and pings each socket idle
    for --ping-interval, in one pass every 2 s: at 1,000 sockets a stall of a few ms every 2 s
    that frames arriving meanwhile wait behind (the p99 of a sparse load: 1.47x the plain
    relay's, 1.05x with this), at 10,000 about 25 ms and a burst of 2,000 pings. Each connection
    is still checked once every 2 s by daphne's own `check_timeouts`, a twentieth of them every
    0.1 s. A closed connection stays in the round's list until the round ends (at most 2 s)."""
    server_class = server_module.Server
    if getattr(server_class.timeout_checker, "_numfree_spread", False):
        return

    def timeout_checker(self: Any) -> None:
        walk = self.__dict__.setdefault("_numfree_walk", {"round": [], "step": 0, "size": 0})
        if walk["step"] == 0:
            walk["round"] = list(self.connections)
            walk["size"] = -(-len(walk["round"]) // WALK_STEPS)
        start = walk["step"] * walk["size"]
        for protocol in walk["round"][start : start + walk["size"]]:
            if protocol in self.connections:
                protocol.check_timeouts()
        walk["step"] = (walk["step"] + 1) % WALK_STEPS
        if walk["step"] == 0:
            walk["round"] = []  # no closed connection is kept past its round
        server_module.reactor.callLater(WALK_S / WALK_STEPS, self.timeout_checker)

    timeout_checker._numfree_spread = True  # type: ignore[attr-defined]
    server_class.timeout_checker = timeout_checker


def _check_one(self: Any, server_module: Any, protocol: Any, details: dict[str, Any]) -> None:
    """The body of daphne 4.1's `Server.application_checker` loop, for one connection."""
    disconnected = details.get("disconnected")
    application_instance = details.get("application_instance")
    if (
        disconnected
        and time.time() - disconnected > self.application_close_timeout
        and application_instance
        and not application_instance.done()
    ):
        server_module.logger.warning(
            "Application instance %r for connection %s took too long to shut down and was killed.",
            application_instance,
            repr(protocol),
        )
        application_instance.cancel()
    if application_instance and application_instance.done():
        try:
            exception = application_instance.exception()
        except (concurrent.futures.CancelledError, asyncio.CancelledError):
            pass
        else:
            if exception:
                if isinstance(exception, KeyboardInterrupt):
                    self.stop()
                else:
                    server_module.logger.error("Exception inside application: %s", exception, exc_info=exception)
                    if not disconnected:
                        protocol.handle_exception(exception)
        del self.connections[protocol]["application_instance"]
        application_instance = None
    if not application_instance and disconnected:
        del self.connections[protocol]


def _write_at_once() -> None:
    """Twisted buffers every write and registers the socket for writability, sends on the next
    turn of the loop, then unregisters it: two epoll_ctl calls and a loop turn per frame sent.
    asyncio's own transports (and so uvicorn and plain `websockets`) send at once when nothing
    is queued, and queue only what the kernel did not take; so does this, for plain TCP (TLS
    ends at the proxy). Anything left over goes through Twisted's buffer as before."""
    from twisted.internet import tcp

    if getattr(tcp.Port.transport, "_numfree_write_at_once", False):
        return

    class Server(tcp.Port.transport):  # type: ignore[misc, name-defined]
        _numfree_write_at_once = True

        def write(self, data: bytes) -> None:
            if (
                data
                and not self.TLS
                and self.connected
                and not self.disconnecting
                and not self._writeDisconnected
                and not self._tempDataLen
                and self.offset == len(self.dataBuffer)
                and isinstance(data, bytes)
            ):
                try:
                    sent = self.socket.send(data)
                except OSError:  # full (EAGAIN) or broken: Twisted's buffered path takes it from here
                    sent = 0
                if sent == len(data):
                    return
                data = data[sent:]
            super().write(data)

    tcp.Port.transport = Server
