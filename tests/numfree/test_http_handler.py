"""HTTP under ASGI (numfree/http_handler.py): one thread per request from start to close, a bounded
number at once, none dropped, streaming kept streaming, nothing of one request left for the next."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.core import signals

from numfree.http_handler import DjangoHTTP
from tests.numfree import http_views

# The middleware reads the database (sessions, usage counts) from the request threads.
pytestmark = [pytest.mark.urls("tests.numfree.http_views"), pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fresh_record() -> None:
    for values in http_views.RECORD.values():
        values.clear()


async def get(app: DjangoHTTP, path: str) -> tuple[int, bytes, int]:
    """Status, body, and how many stream parts the view had made when the first body message was sent."""
    sent: list[dict[str, Any]] = []
    made: list[int] = []
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and not any(m["type"] == message["type"] for m in sent):
            made.append(len(http_views.RECORD["parts"]))
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    return sent[0]["status"], b"".join(m.get("body", b"") for m in bodies), made[0]


async def test_no_more_than_the_configured_number_run_at_once_and_none_is_dropped(settings):
    settings.HTTP_CONCURRENCY = 3
    app = DjangoHTTP()

    answers = await asyncio.gather(*(get(app, f"/slow/{n}/") for n in range(20)))

    assert [(status, body) for status, body, _ in answers] == [(200, f"/slow/{n}/".encode()) for n in range(20)]
    assert max(http_views.RECORD["running"]) == 3
    # Threads are kept, not made per request: 20 requests ran on the 3.
    assert len(set(http_views.RECORD["view"])) == 3


async def test_a_request_starts_runs_and_finishes_on_one_thread(settings):
    settings.HTTP_CONCURRENCY = 4
    app = DjangoHTTP()
    started: list[int] = []
    finished: list[int] = []

    def on_start(**_: Any) -> None:
        started.append(threading.get_ident())

    def on_finish(**_: Any) -> None:
        finished.append(threading.get_ident())

    signals.request_started.connect(on_start)
    signals.request_finished.connect(on_finish)
    try:
        status, body, made_before_sending = await get(app, "/stream/")
    finally:
        signals.request_started.disconnect(on_start)
        signals.request_finished.disconnect(on_finish)

    assert status == 200
    assert body == b"".join(b"%d\n" % n for n in range(300))
    # The view, every part of its stream and the end-of-request cleanup (which returns the
    # database connection) ran on the thread the request started on, not the event loop's.
    view = http_views.RECORD["view"]
    assert started == view and finished == view
    assert set(http_views.RECORD["parts"]) == set(view)
    assert view[0] != threading.get_ident()
    # Sent as it is made, not gathered whole first (an export can be large).
    assert made_before_sending < 300


async def test_what_one_request_changed_is_not_seen_by_the_next_on_the_same_thread(settings):
    settings.HTTP_CONCURRENCY = 1
    app = DjangoHTTP()

    for _ in range(3):
        assert (await get(app, "/zone/"))[0] == 200

    assert http_views.RECORD["zones"] == [settings.TIME_ZONE] * 3


async def test_a_websocket_is_refused_here_as_django_refuses_it():
    with pytest.raises(ValueError, match="HTTP"):
        await DjangoHTTP()({"type": "websocket"}, None, None)
