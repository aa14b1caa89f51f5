"""WebSocket URL routes: the signaling consumer (behind the Origin allowlist in numfree/asgi.py)."""

from __future__ import annotations

from django.urls import path

from signaling.consumers import SignalingConsumer

websocket_urlpatterns: list = [path("ws/signaling/", SignalingConsumer.as_asgi())]
