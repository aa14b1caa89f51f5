"""WebSocket handshake guard: only NumFree's own pages and extension may connect."""

from __future__ import annotations

from channels.security.websocket import OriginValidator
from django.conf import settings


def allowed_origins() -> list[str]:
    return [settings.PUBLIC_ORIGIN, *(f"chrome-extension://{ext_id}" for ext_id in settings.NUMFREE_EXTENSION_IDS)]


class OriginAllowlist(OriginValidator):
    """Channels' OriginValidator with exact origins (scheme, host and port) from settings.

    A refused handshake is answered with HTTP 403 by the server.
    """

    def __init__(self, application) -> None:  # type: ignore[no-untyped-def]
        super().__init__(application, allowed_origins())

    def valid_origin(self, parsed_origin) -> bool:  # type: ignore[no-untyped-def]
        if parsed_origin is None:
            return False
        origin = f"{parsed_origin.scheme}://{parsed_origin.netloc}"
        return origin in allowed_origins()
