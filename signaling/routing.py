"""WebSocket URL routes: the signaling consumer (behind the Origin allowlist in numfree/asgi.py)."""

from __future__ import annotations

import sys

from django.urls import path

from signaling.consumers import SignalingConsumer


def close_oversized_frames_with_1009() -> None:
    """daphne's --websocket-max-message-size answers an oversized frame by
    dropping the TCP connection (autobahn's failByDrop), so the client sees
    1006; the protocol promises close code 1009. With failByDrop off, autobahn
    performs the closing handshake with 1009 instead."""
    ws_protocol = sys.modules.get("daphne.ws_protocol")
    if ws_protocol is None or getattr(ws_protocol.WebSocketFactory, "_numfree_clean_close", False):
        return
    original_init = ws_protocol.WebSocketFactory.__init__

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    ws_protocol.WebSocketFactory.__init__ = __init__
    ws_protocol.WebSocketFactory._numfree_clean_close = True


close_oversized_frames_with_1009()

websocket_urlpatterns: list = [path("ws/signaling/", SignalingConsumer.as_asgi())]
