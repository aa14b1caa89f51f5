"""daphne's WebSocket connections: freed at once when closed, and cheaper to open.

The web process freezes long-lived objects out of the garbage collector's
reach (signaling/gc_pauses.py), so anything a closed socket leaves in a
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
in-process communicator). tests/signaling/test_socket_memory.py counts the
objects by type over connect/close cycles with the production GC settings.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from twisted.internet import defer


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
