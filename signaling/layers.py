"""Channel layers for signaling whose cost per message does not grow with connected sockets.

`LocalChannelLayer` keeps one queue per channel and one set per group, with no
expiry scan on send or receive (Channels' InMemoryChannelLayer scans every
channel and group on each call). Channels are removed when their consumer
ends, and groups never expire, so a day-old connection keeps its memberships.

`RedisBridgeLayer` adds other processes through Redis pub/sub: one Redis
channel per process (a consumer's channel name starts with its process's) and
one per group with local members. A message for this process never touches
Redis; one for another process is one PUBLISH. A message that cannot be handed
on raises `Undeliverable`, so its sender can be told.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import secrets
from collections.abc import Callable
from typing import Any

from channels.layers import BaseChannelLayer

logger = logging.getLogger(__name__)


def stopping() -> bool:
    """Whether this task was asked to stop. A cancellation that lands inside a Redis call can
    come out as a ConnectionError or TimeoutError (redis-py, asyncio.timeout); a loop that
    catches those must not carry on, or the event loop can never finish shutting down."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class Undeliverable(Exception):
    """The message could not be handed to its channel (gone, or Redis is down)."""


class LocalChannelLayer(BaseChannelLayer):
    extensions = ["groups", "flush"]

    def __init__(self, expiry: int = 60, capacity: int = 100, **kwargs: Any) -> None:
        super().__init__(expiry=expiry, capacity=capacity)
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._groups: dict[str, set[str]] = {}
        self._sinks: dict[str, Callable[[dict[str, Any]], None]] = {}
        self._memberships: dict[str, set[str]] = {}  # channel -> its groups, so leaving costs O(its groups)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._counter = itertools.count(1)
        self.prefix = f"local.{secrets.token_hex(6)}"

    # --- Channels' API ---
    async def new_channel(self, prefix: str = "specific.") -> str:
        self._loop = asyncio.get_running_loop()
        name = f"{self.prefix}!{next(self._counter)}"
        self._queues[name] = asyncio.Queue()
        return name

    async def receive(self, channel: str) -> dict[str, Any]:
        queue = self._queues.get(channel)
        if queue is None:
            queue = self._queues.setdefault(channel, asyncio.Queue())
        return await queue.get()

    async def send(self, channel: str, message: dict[str, Any]) -> None:
        await self.deliver(channel, message)

    async def deliver(self, channel: str, message: dict[str, Any]) -> None:
        """Hand `message` to `channel`, or raise Undeliverable."""
        if not self._put_local(channel, message):
            raise Undeliverable(channel)

    async def group_add(self, group: str, channel: str) -> None:
        self._groups.setdefault(group, set()).add(channel)
        self._memberships.setdefault(channel, set()).add(group)

    async def group_discard(self, group: str, channel: str) -> None:
        self._memberships.get(channel, set()).discard(group)
        members = self._groups.get(group)
        if members is not None:
            members.discard(channel)
            if not members:
                del self._groups[group]

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self._call_in_loop(self._send_local_group, group, message)

    async def flush(self) -> None:
        self._queues.clear()
        self._groups.clear()
        self._sinks.clear()
        self._memberships.clear()

    # --- Local delivery ---
    def attach(self, channel: str, sink: Callable[[dict[str, Any]], None]) -> None:
        """Hand this channel's messages to `sink` (called in the loop) instead of a queue."""
        self._sinks[channel] = sink
        self._queues.pop(channel, None)

    def discard_channel(self, channel: str) -> list[str]:
        """Forget a finished consumer's channel; returns the groups it left empty."""
        self._queues.pop(channel, None)
        self._sinks.pop(channel, None)
        emptied = []
        for group in self._memberships.pop(channel, ()):
            members = self._groups.get(group)
            if members is None:
                continue
            members.discard(channel)
            if not members:
                del self._groups[group]
                emptied.append(group)
        return emptied

    def is_local(self, channel: str) -> bool:
        return channel in self._sinks or channel in self._queues

    def _put_local(self, channel: str, message: dict[str, Any]) -> bool:
        sink = self._sinks.get(channel)
        if sink is None:
            queue = self._queues.get(channel)
            if queue is None:
                return False
            sink = queue.put_nowait
        self._call_in_loop(sink, message)
        return True

    def _send_local_group(self, group: str, message: dict[str, Any]) -> None:
        for channel in list(self._groups.get(group, ())):
            sink = self._sinks.get(channel)
            if sink is not None:
                sink(message)
                continue
            queue = self._queues.get(channel)
            if queue is not None:
                queue.put_nowait(message)

    def _call_in_loop(self, fn: Callable[..., None], *args: Any) -> None:
        """asyncio queues are not thread-safe: code running in another thread
        (a sync view revoking a sign-in) hands the call to the consumers' loop."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is None or running is self._loop or self._loop.is_closed():
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)


class RedisBridgeLayer(LocalChannelLayer):
    """LocalChannelLayer plus other processes, through Redis pub/sub (nothing is queued in Redis)."""

    # The longest wait between two attempts to resubscribe: how late relay can resume after Redis does.
    RETRY_MAX_S = 1.0

    def __init__(self, hosts: list[Any] | None = None, prefix: str = "numfree", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        host = (hosts or ["redis://127.0.0.1:6379/0"])[0]
        self.url = host["address"] if isinstance(host, dict) else host
        self.redis_prefix = f"{prefix}.signal"
        self.prefix = f"{self.redis_prefix}.p.{secrets.token_hex(8)}"
        self._publisher: Any = None
        self._pubsub: Any = None
        self._pump: asyncio.Task[None] | None = None
        self._pump_loop: asyncio.AbstractEventLoop | None = None
        self._connected = asyncio.Event()
        self.on_reconnect: list[Callable[[], Any]] = []
        self._outgoing: list[tuple[str, str, asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None

    def _group_channel(self, group: str) -> str:
        return f"{self.redis_prefix}.g.{group}"

    def _client(self, *, blocking: bool) -> Any:
        import redis.asyncio as aioredis

        if blocking:  # the subscriber waits forever for messages (django/channels_redis#422)
            return aioredis.Redis.from_url(self.url, socket_timeout=None, socket_connect_timeout=2)
        return aioredis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    async def _ensure_pump(self) -> None:
        loop = asyncio.get_running_loop()
        if self._pump is None or self._pump_loop is not loop or self._pump.done():
            self._pump_loop = loop
            self._connected = asyncio.Event()
            self._publisher = self._client(blocking=False)
            self._outgoing, self._flusher = [], None
            self._pump = loop.create_task(self._run_pump())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._connected.wait(), 5)

    async def _run_pump(self) -> None:
        """Keep the subscription; while Redis is down, retry with a backoff (0.2 s doubling
        to RETRY_MAX_S) and log the loss once per outage, not once per attempt."""
        first = True
        failures = 0
        while True:
            client = self._client(blocking=True)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.prefix, *(self._group_channel(g) for g in list(self._groups)))
                self._pubsub = pubsub
                self._connected.set()
                if not first:
                    logger.info("signaling: reconnected to Redis after %d failed attempt(s)", failures)
                    for callback in self.on_reconnect:
                        asyncio.get_running_loop().create_task(callback())
                first = False
                failures = 0
                async for item in pubsub.listen():
                    if item.get("type") == "message":
                        self._dispatch_remote(item["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis went away: retry; sends fail loudly meanwhile
                if stopping():
                    raise asyncio.CancelledError from None
                if failures == 0:
                    logger.warning("signaling: Redis subscription lost (%s); retrying", type(exc).__name__)
                failures += 1
            finally:
                self._pubsub = None
                self._connected.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                    await client.aclose()
            await asyncio.sleep(min(self.RETRY_MAX_S, 0.2 * 2 ** min(max(failures - 1, 0), 10)))

    def _dispatch_remote(self, data: bytes) -> None:
        try:
            envelope = json.loads(data)
        except ValueError:
            return
        if "g" in envelope:
            self._send_local_group(envelope["g"], envelope["m"])
        else:
            self._put_local(envelope["c"], envelope["m"])

    async def new_channel(self, prefix: str = "specific.") -> str:
        await self._ensure_pump()
        return await super().new_channel(prefix)

    async def _publish(self, redis_channel: str, envelope: dict[str, Any]) -> int:
        """PUBLISH, in order. Publishes made while one is in flight leave together in the next
        round trip (a pipeline: one write, one read), which cut the CPU per frame crossing
        processes in bench/signaling_cluster.py; a lone publish is sent at once, as before."""
        await self._ensure_pump()
        result: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._outgoing.append((redis_channel, json.dumps(envelope, separators=(",", ":")), result))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_outgoing())
        return await result

    async def _flush_outgoing(self) -> None:
        while self._outgoing:
            batch, self._outgoing = self._outgoing, []
            try:
                if len(batch) == 1:
                    counts = [await self._publisher.publish(batch[0][0], batch[0][1])]
                else:
                    async with self._publisher.pipeline(transaction=False) as pipe:
                        for redis_channel, payload, _ in batch:
                            pipe.publish(redis_channel, payload)
                        counts = await pipe.execute()
            except Exception as exc:
                for redis_channel, _, result in batch:
                    if not result.done():
                        failure = Undeliverable(redis_channel)
                        failure.__cause__ = exc
                        result.set_exception(failure)
                continue
            for (_, _, result), count in zip(batch, counts, strict=True):
                if not result.done():
                    result.set_result(count)

    async def deliver(self, channel: str, message: dict[str, Any]) -> None:
        if self._put_local(channel, message):
            return
        process, _, _ = channel.partition("!")
        if process == self.prefix or not process.startswith(f"{self.redis_prefix}.p."):
            raise Undeliverable(channel)
        if await self._publish(process, {"c": channel, "m": message}) == 0:
            raise Undeliverable(channel)  # that process is gone

    async def group_add(self, group: str, channel: str) -> None:
        first = group not in self._groups
        await super().group_add(group, channel)
        if first and self._pubsub is not None:
            try:
                await self._pubsub.subscribe(self._group_channel(group))
            except Exception as exc:
                raise Undeliverable(group) from exc

    async def group_discard(self, group: str, channel: str) -> None:
        await super().group_discard(group, channel)
        if group not in self._groups and self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(self._group_channel(group))

    def discard_channel(self, channel: str) -> list[str]:
        emptied = super().discard_channel(channel)
        if emptied and self._pubsub is not None and self._pump_loop is not None:
            pubsub = self._pubsub
            self._pump_loop.create_task(self._unsubscribe(pubsub, [self._group_channel(g) for g in emptied]))
        return emptied

    @staticmethod
    async def _unsubscribe(pubsub: Any, channels: list[str]) -> None:
        with contextlib.suppress(Exception):
            await pubsub.unsubscribe(*channels)

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self._pump_loop is None or asyncio.get_running_loop() is not self._pump_loop:
            # Another loop (a sync view through async_to_sync): a one-off publisher.
            client = self._client(blocking=False)
            try:
                await client.publish(self._group_channel(group), json.dumps({"g": group, "m": message}))
            except Exception as exc:
                raise Undeliverable(group) from exc
            finally:
                await client.aclose()
            return
        await self._publish(self._group_channel(group), {"g": group, "m": message})

    async def flush(self) -> None:
        await super().flush()
