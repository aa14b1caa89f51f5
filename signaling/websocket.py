"""A WebSocket consumer as a plain ASGI app: one task per socket, no per-frame thread hop.

Channels' AsyncConsumer waits on the socket and the channel layer with
`asyncio.wait` over two fresh tasks per message and runs Django's
`close_old_connections()` in the one sync thread before every message, so all
sockets queue behind that thread for every frame. Here the socket's task reads
`receive()` and handles each frame directly; channel-layer messages for the
socket are handed over by the layer (`attach`) and handled, in order, by a
short-lived task (in the socket's own context, so asgiref's thread-sensitive
calls do not land in the executor of a sync view that published the message)
that exists only while there are some. A per-socket lock
keeps one message at a time per socket, as Channels did. Database work runs
in `database_sync_to_async`, which closes stale connections around each call.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
from typing import Any

from channels.layers import get_channel_layer


class PlainWebsocketConsumer:
    """Subclasses implement `websocket_connect`, `receive`, `disconnect` and `signal_*` handlers."""

    channel_layer_alias = "default"

    @classmethod
    def as_asgi(cls) -> Any:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await cls()(scope, receive, send)

        app.consumer_class = cls  # type: ignore[attr-defined]
        return app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        self.base_send = send
        self._turn = asyncio.Lock()
        self._inbox: collections.deque[dict[str, Any]] | None = None  # made by the first message (~600 B)
        self._drainer: asyncio.Task[None] | None = None
        self._context = contextvars.copy_context()  # the socket's own, not that of whoever sent a message
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_layer.attach(self.channel_name, self._mailbox)
        try:
            while True:
                message = await receive()
                kind = message["type"]
                async with self._turn:
                    if kind == "websocket.receive":
                        await self.receive(message.get("text"), message.get("bytes"))
                    elif kind == "websocket.connect":
                        await self.websocket_connect(message)
                    elif kind == "websocket.disconnect":
                        await self.disconnect(message.get("code", 1000))
                        return
        finally:
            self.channel_layer.discard_channel(self.channel_name)
            self._inbox = None
            drainer, self._drainer = self._drainer, None
            if drainer is not None:
                # Not kept: a cancelled task holds its CancelledError, whose traceback holds
                # `_drain`'s frame and so this consumer, a cycle only the full GC pass frees.
                drainer.cancel()

    # --- channel-layer messages ---
    def _mailbox(self, message: dict[str, Any]) -> None:
        if self._inbox is None:
            self._inbox = collections.deque()
        self._inbox.append(message)
        if self._drainer is None:
            self._drainer = asyncio.get_running_loop().create_task(self._drain(), context=self._context)

    async def _drain(self) -> None:
        try:
            while self._inbox:
                message = self._inbox.popleft()
                kind = message.get("type", "")
                handler = getattr(self, kind.replace(".", "_"), None) if kind.startswith("signal.") else None
                if handler is None:
                    continue
                async with self._turn:
                    await handler(message)
        finally:
            if self._drainer is asyncio.current_task():
                self._drainer = None
                if not self._inbox:
                    self._inbox = None  # most sockets get a message now and then: no idle deque

    # --- output ---
    async def accept(self) -> None:
        await self.base_send({"type": "websocket.accept"})

    async def send(self, text_data: str) -> None:
        await self.base_send({"type": "websocket.send", "text": text_data})

    async def close(self, code: int = 1000) -> None:
        with contextlib.suppress(Exception):
            await self.base_send({"type": "websocket.close", "code": code})

    # --- to implement ---
    async def websocket_connect(self, message: dict[str, Any]) -> None:
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raise NotImplementedError

    async def disconnect(self, code: int) -> None:
        pass
