"""Django's HTTP requests under ASGI: each one in a single hop to a reused thread, a bounded number at once.

Every view of the product is synchronous. Django's own ASGIHandler runs the
middleware in async mode, so each of our 13 middleware's `process_request` and
`process_response` is its own `sync_to_async` hop, plus one for the start
signal and one for `response.close()`, and every request gets a new OS thread
(asgiref's ThreadSensitiveContext). That was most of a request's CPU: a view
returning "ok" cost about 3.5 ms.

This handler loads the middleware in sync mode, as Django's WSGI handler
does, and runs the whole request (start signal, middleware, view, close) in one
hop on one of `HTTP_CONCURRENCY` long-lived threads per event loop. A request
keeps its thread from start to end, so everything Django ties to a thread (the
database connection, the end-of-request cleanup) stays on it. Requests past the
bound wait in the event loop, first come first served: on SQLite they would
otherwise queue for the single write lock through its sleeping busy handler,
and on PostgreSQL exceed the connection limit. WebSockets never come here.

Streaming responses (CSV exports, recordings) are read on the request's thread
in slices and sent as they come, so a large export is never held in memory
whole (Django's handler turns a sync iterator into one list).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse, HttpResponseBase
from django.urls import set_script_prefix

from numfree import gc_pauses

STREAM_PARTS_PER_HOP = 64  # parts of a streaming response read per hop to its thread


class DjangoHTTP(ASGIHandler):
    def __init__(self) -> None:
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self._threads: dict[asyncio.AbstractEventLoop, asyncio.Queue[ThreadPoolExecutor]] = {}

    def _free_threads(self) -> asyncio.Queue[ThreadPoolExecutor]:
        loop = asyncio.get_running_loop()
        free = self._threads.get(loop)
        if free is None:
            for old in [lp for lp in self._threads if lp.is_closed()]:
                stale = self._threads.pop(old)
                while not stale.empty():
                    stale.get_nowait().shutdown(wait=False)
            free = self._threads[loop] = asyncio.Queue()
            for n in range(settings.HTTP_CONCURRENCY):
                free.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{n}"))
        return free

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        gc_pauses.freeze_survivors()  # at most once a second: see numfree/gc_pauses.py
        free = self._free_threads()
        executor = await free.get()
        try:
            await self._serve(executor, scope, receive, send)
        finally:
            free.put_nowait(executor)

    async def _serve(self, executor: ThreadPoolExecutor, scope: dict[str, Any], receive: Any, send: Any) -> None:
        on_thread = _on(executor)
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:  # the client went away before its body arrived
            return
        try:
            response = await on_thread(self._respond)(scope, body_file)
            if not response.streaming:
                await self.send_response(response, send)
                return
            try:
                if not response.is_async:  # type: ignore[attr-defined]
                    response.streaming_content = _async_parts(iter(response), on_thread)  # type: ignore[attr-defined]
                await self.send_response(response, send)
            finally:
                await on_thread(response.close)()
        finally:
            body_file.close()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        """On the request's thread: what Django's WSGI handler does for one request. A whole
        response is closed (request_finished: the database connection goes back) before it is sent."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
        assert response is not None
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response


def _on(executor: ThreadPoolExecutor) -> Any:
    def wrap(fn: Any) -> Any:
        return sync_to_async(fn, thread_sensitive=False, executor=executor)

    return wrap


async def _async_parts(parts: Iterator[bytes], on_thread: Any) -> Any:
    """A sync iterator's parts, read on the request's thread a slice at a time."""
    read = on_thread(lambda: list(itertools.islice(parts, STREAM_PARTS_PER_HOP)))
    while chunk := await read():
        for part in chunk:
            yield part
