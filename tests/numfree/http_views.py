"""Views for tests/numfree/test_http_handler.py: they record which thread ran them."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path
from django.utils import timezone

RECORD: dict[str, list] = {"view": [], "parts": [], "running": [], "zones": []}
_lock = threading.Lock()
_running = 0


def slow(request: HttpRequest, n: int) -> HttpResponse:
    global _running
    with _lock:
        _running += 1
        RECORD["running"].append(_running)
    RECORD["view"].append(threading.get_ident())
    time.sleep(0.02)
    with _lock:
        _running -= 1
    return HttpResponse(request.path)


def stream(request: HttpRequest) -> StreamingHttpResponse:
    RECORD["view"].append(threading.get_ident())

    def parts() -> Iterator[bytes]:
        for n in range(300):
            RECORD["parts"].append(threading.get_ident())
            yield b"%d\n" % n

    return StreamingHttpResponse(parts(), content_type="text/plain")


def zone(request: HttpRequest) -> HttpResponse:
    """Reports the zone it found, then leaves another one active (as a careless view might)."""
    RECORD["zones"].append(timezone.get_current_timezone_name())
    timezone.activate("Asia/Tokyo")
    return HttpResponse("ok")


urlpatterns = [path("slow/<int:n>/", slow), path("stream/", stream), path("zone/", zone)]
