"""Frames crossing processes through Redis: publishes sent together in one pipeline still
arrive all, in the order they were sent, and a send to a process that is gone still fails."""

from __future__ import annotations

import asyncio

import pytest
from django.conf import settings

from signaling.layers import RedisBridgeLayer, Undeliverable

pytestmark = pytest.mark.redis
FRAMES = 500


def two_processes() -> tuple[RedisBridgeLayer, RedisBridgeLayer]:
    return (
        RedisBridgeLayer(hosts=[settings.REDIS_URL], prefix="test-pipelining"),
        RedisBridgeLayer(hosts=[settings.REDIS_URL], prefix="test-pipelining"),
    )


async def test_frames_sent_at_once_to_another_process_all_arrive_in_order() -> None:
    here, there = two_processes()
    channel = await there.new_channel()
    await here.new_channel()
    arrived: list[int] = []
    done = asyncio.Event()

    def sink(message: dict[str, object]) -> None:
        arrived.append(int(message["n"]))  # type: ignore[call-overload]
        if len(arrived) == FRAMES:
            done.set()

    there.attach(channel, sink)
    # Sent without waiting for each other: all but the first leave while one is in flight.
    await asyncio.gather(*(here.deliver(channel, {"type": "signal.frame", "n": n}) for n in range(FRAMES)))
    await asyncio.wait_for(done.wait(), 10)
    assert arrived == list(range(FRAMES))
    for layer in (here, there):
        layer._pump.cancel()  # type: ignore[union-attr]


async def test_frames_sent_at_once_to_a_process_that_is_gone_are_each_refused() -> None:
    here, _ = two_processes()
    await here.new_channel()
    gone = f"{here.redis_prefix}.p.0000000000000000!1"
    results = await asyncio.gather(
        *(here.deliver(gone, {"type": "signal.frame", "n": n}) for n in range(20)), return_exceptions=True
    )
    assert all(isinstance(result, Undeliverable) for result in results)
    here._pump.cancel()  # type: ignore[union-attr]
