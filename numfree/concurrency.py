"""A bound on how many HTTP requests run Django's synchronous code at once.

Under ASGI every request gets its own thread, so a burst of N requests means N
threads and N database connections at once. On SQLite they then queue for the
single write lock through SQLite's sleeping busy handler, which leaves the lock
idle between sleepers and collapses throughput; on PostgreSQL they can exceed
the server's connection limit. Requests past the bound wait in the event loop
(cheap, first come first served) instead. WebSockets are not affected.
"""

from __future__ import annotations

import asyncio
from typing import Any

from django.conf import settings


class HttpConcurrencyLimit:
    def __init__(self, application: Any) -> None:
        self.application = application
        self._semaphores: dict[int, asyncio.Semaphore] = {}

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(id(loop))
        if semaphore is None:
            semaphore = self._semaphores[id(loop)] = asyncio.Semaphore(settings.HTTP_CONCURRENCY)
        return semaphore

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        async with self._semaphore():
            await self.application(scope, receive, send)
