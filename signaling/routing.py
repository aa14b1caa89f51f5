"""WebSocket URL routes (the consumer arrives with the signaling issue)."""

from __future__ import annotations

websocket_urlpatterns: list = []
