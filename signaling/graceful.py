"""A graceful stop under daphne: on SIGTERM every signaling socket is closed with 1012 first.

daphne runs on Twisted's asyncio reactor. On SIGTERM the reactor stops, and
daphne's "before shutdown" trigger cancels every application: a WebSocket
client saw its TCP connection drop with no close frame (1006), and could not
tell a restart from a network failure. A shutdown trigger of our own cannot
come first (Twisted calls every "before" trigger at once, daphne's included),
so the hook is the reactor's SIGTERM handler itself: `reactor.sigTerm`, the
method the reactor installs for SIGTERM when `reactor.run()` starts. daphne
imports the application before it runs the reactor, so replacing the method
at import (`install()`, from numfree/asgi.py) is what gets installed.

Ours, in the reactor's loop: stop listening (new connections and the proxy's
retries go to the other processes), send every open WebSocket a close frame
with 1012 "service restart", drain every signaling hub (wait up to DRAIN_S
for the sockets to leave and for the call log, then stop counting as alive so
other processes adopt this one's calls at once), then call Twisted's own
handler, which stops the reactor as before.

1012 cannot go through ASGI's `websocket.close`: autobahn's `sendClose`
accepts only 1000 and 3000-4999 from an application and daphne swallows the
error. The close frame is sent with autobahn's lower-level
`sendCloseFrame(code, isReply=False)` on each open protocol (found through
the reactor's readers: a TCP connection's protocol, after daphne's upgrade,
is the WebSocket protocol); the client answers it and the socket ends as any
closed socket does. A second SIGTERM stops at once. The extension reconnects
after a random 0-5 s on 1012, so clients do not all come back in one instant.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from typing import Any

logger = logging.getLogger(__name__)

DRAIN_S = 3.0


def install() -> bool:
    """Hook daphne's reactor, if this process runs one (not under uvicorn or in tests)."""
    reactor = sys.modules.get("twisted.internet.reactor")
    if reactor is None or not hasattr(reactor, "sigTerm") or getattr(reactor, "_numfree_graceful", False):
        return False
    original = reactor.sigTerm
    state = {"draining": False}

    def sig_term(number: int, frame: Any = None) -> None:
        if state["draining"]:
            original(number, frame)
            return
        state["draining"] = True
        reactor.callFromThread(lambda: asyncio.ensure_future(_drain_then_stop(reactor, original, number)))

    reactor.sigTerm = sig_term
    reactor._numfree_graceful = True
    return True


def _stop_listening(reactor: Any) -> int:
    from twisted.internet.interfaces import IListeningPort

    ports = [reader for reader in reactor.getReaders() if IListeningPort.providedBy(reader)]
    for port in ports:
        with contextlib.suppress(Exception):
            port.stopListening()
    return len(ports)


def _close_websockets(reactor: Any, code: int) -> int:
    from autobahn.websocket.protocol import WebSocketProtocol

    closed = 0
    for reader in reactor.getReaders():
        protocol = getattr(reader, "protocol", None)
        if isinstance(protocol, WebSocketProtocol) and protocol.state == WebSocketProtocol.STATE_OPEN:
            with contextlib.suppress(Exception):
                protocol.sendCloseFrame(code=code, isReply=False)
                closed += 1
    return closed


async def _drain_then_stop(reactor: Any, original: Any, number: int) -> None:
    from signaling import hub as hub_module
    from signaling.hub import CLOSE_RESTARTING

    try:
        ports = _stop_listening(reactor)
        hubs = list(hub_module._hubs.values())
        for hub in hubs:
            hub.begin_drain()
        sockets = _close_websockets(reactor, CLOSE_RESTARTING)
        logger.info("signaling: SIGTERM: closed %d listening port(s), closing %d socket(s) with 1012", ports, sockets)
        for hub in hubs:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(hub.drain(DRAIN_S), DRAIN_S + 1)
    finally:
        original(number, None)
