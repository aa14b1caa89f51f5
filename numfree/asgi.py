"""ASGI entry point: HTTP through Django, WebSocket through Channels.

WebSocket handshakes are checked against an Origin allowlist (the site's own
origin and the configured extension ids) before any consumer runs.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numfree.settings")
django.setup(set_prefix=False)  # what django.core.asgi.get_asgi_application does before its handler

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from numfree import daphne_tuning, gc_pauses  # noqa: E402
from numfree.http_handler import DjangoHTTP  # noqa: E402
from numfree.websocket import OriginAllowlist  # noqa: E402
from signaling import graceful  # noqa: E402
from signaling.routing import websocket_urlpatterns  # noqa: E402

daphne_tuning.install()  # under daphne (it has loaded its protocols by now): sockets freed at once, cheaper
graceful.install()  # under daphne: SIGTERM closes signaling sockets with 1012 before the server stops

application = ProtocolTypeRouter(
    {
        "http": DjangoHTTP(),
        "websocket": OriginAllowlist(URLRouter(websocket_urlpatterns)),
    }
)
# What startup loaded (Django, the apps, the server), out of the collector's reach before the
# first request: a process serving only webhooks would otherwise stall 40-55 ms in every full pass.
gc_pauses.freeze_survivors()
