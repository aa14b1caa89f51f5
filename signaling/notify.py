"""Telling sockets about changes made outside them (contacts, revocation), on every process.

Each authenticated socket is in the group `user.<id>`; these functions are
called from synchronous code after commit and publish one event per user.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from signaling.layers import Undeliverable

logger = logging.getLogger(__name__)
LAYER = "signaling"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_to_user(user_id: int, message: dict[str, Any]) -> bool:
    layer = get_channel_layer(LAYER)
    try:
        async_to_sync(layer.group_send)(user_group(user_id), message)
    except Undeliverable:
        logger.error("signaling: could not publish %s (channel layer down)", message.get("type"))
        return False
    return True


def contacts_changed(user_ids: list[int]) -> None:
    for user_id in user_ids:
        publish_to_user(user_id, {"type": "signal.contacts"})
