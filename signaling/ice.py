"""The RTCConfiguration handed to clients: the deployment's own STUN/TURN, nothing third-party.

TURN credentials follow the TURN REST scheme (coturn `use-auth-secret`):
username `<expiry unix time>:<opaque id>`, password base64(HMAC-SHA1(secret, username)).
The opaque id is random per request, so the relay never learns who is calling.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings

from signaling import clock


def turn_credentials(secret: str, ttl_seconds: int, now: float | None = None) -> tuple[str, str]:
    expiry = int((clock.wall() if now is None else now) + ttl_seconds)
    username = f"{expiry}:{secrets.token_urlsafe(12)}"
    password = base64.b64encode(hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()).decode()
    return username, password


def ice_configuration() -> dict[str, Any]:
    servers: list[dict[str, Any]] = []
    if settings.SIGNALING_STUN_URLS:
        servers.append({"urls": list(settings.SIGNALING_STUN_URLS)})
    if settings.SIGNALING_TURN_URLS:
        username, credential = turn_credentials(settings.SIGNALING_TURN_SECRET, settings.SIGNALING_TURN_TTL_SECONDS)
        servers.append({"urls": list(settings.SIGNALING_TURN_URLS), "username": username, "credential": credential})
    return {"iceServers": servers, "iceTransportPolicy": "all"}
