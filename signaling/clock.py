"""The one place signaling reads time and sets timers, so tests can run them in milliseconds.

Durations come from settings in milliseconds (SIGNALING_*_MS); tests set them
to a few ms instead of moving a clock (time-travel libraries do not move
asyncio timers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.utils import timezone


def monotonic() -> float:
    """Seconds on a clock that never jumps (timers, rate limits)."""
    return time.monotonic()


def wall() -> float:
    """Unix seconds, for expiry stamps shared between processes (presence)."""
    return time.time()


def now() -> datetime:
    """Aware datetime for what is stored (call log times)."""
    return timezone.now()


def seconds(setting_name: str) -> float:
    """A SIGNALING_*_MS setting as seconds."""
    return getattr(settings, setting_name) / 1000


def call_later(setting_name: str, callback: Callable[[], object]) -> asyncio.TimerHandle:
    return asyncio.get_running_loop().call_later(seconds(setting_name), callback)


async def sleep(setting_name: str, fraction: float = 1.0) -> None:
    await asyncio.sleep(seconds(setting_name) * fraction)
