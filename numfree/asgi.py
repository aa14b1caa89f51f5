"""ASGI entry point: HTTP through Django, WebSocket through Channels.

WebSocket handshakes are checked against an Origin allowlist (the site's own
origin and the configured extension ids) before any consumer runs.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "numfree.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from numfree import daphne_tuning  # noqa: E402
from numfree.concurrency import HttpConcurrencyLimit  # noqa: E402
from numfree.websocket import OriginAllowlist  # noqa: E402
from signaling import graceful  # noqa: E402
from signaling.routing import websocket_urlpatterns  # noqa: E402

daphne_tuning.install()  # under daphne (it has loaded its protocols by now): sockets freed at once, cheaper
graceful.install()  # under daphne: SIGTERM closes signaling sockets with 1012 before the server stops

application = ProtocolTypeRouter(
    {
        "http": HttpConcurrencyLimit(django_asgi_app),
        "websocket": OriginAllowlist(URLRouter(websocket_urlpatterns)),
    }
)
