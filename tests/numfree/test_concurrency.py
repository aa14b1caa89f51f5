"""HTTP requests past the per-process bound wait their turn instead of piling up threads."""

from __future__ import annotations

import asyncio

from numfree.concurrency import HttpConcurrencyLimit


async def test_no_more_than_the_configured_number_of_requests_run_at_once_and_none_is_dropped(settings):
    settings.HTTP_CONCURRENCY = 3
    running = 0
    most = 0
    served = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1
        served.append(scope["path"])

    limited = HttpConcurrencyLimit(app)
    await asyncio.gather(*(limited({"type": "http", "path": f"/{i}"}, None, None) for i in range(20)))

    assert most == 3
    assert sorted(served) == sorted(f"/{i}" for i in range(20))


async def test_websockets_are_not_held_back_by_the_http_bound(settings):
    settings.HTTP_CONCURRENCY = 1
    started = asyncio.Event()
    release = asyncio.Event()

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "http":
            started.set()
            await release.wait()

    limited = HttpConcurrencyLimit(app)
    slow_http = asyncio.create_task(limited({"type": "http", "path": "/"}, None, None))
    await started.wait()
    await asyncio.wait_for(limited({"type": "websocket", "path": "/ws/signaling/"}, None, None), timeout=1)
    release.set()
    await slow_http
