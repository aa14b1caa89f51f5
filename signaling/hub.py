"""This process's signaling hub: its authenticated sockets, presence upkeep and frame delivery.

A frame for a socket of this process is written to it directly (a dict
lookup), so the cost of relaying does not depend on how many sockets are
connected; a frame for another process goes through the channel layer to that
process. `deliver()` says whether the frame was handed on, so a sender is
never left thinking a dropped frame arrived.

The hub also beats this process's liveness stamp, adopts the calls of dead
processes (call_recovery.py), and on SIGTERM drains: every socket is closed
with 1012 so its client reconnects elsewhere (graceful.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from numfree import gc_pauses
from signaling import call_recovery, clock
from signaling.layers import LocalChannelLayer, Undeliverable, stopping
from signaling.notify import LAYER
from signaling.state_store import StoreUnavailable, get_store, liveness_s

if TYPE_CHECKING:
    from signaling.calls import CallRegistry
    from signaling.consumers import SignalingConsumer

logger = logging.getLogger(__name__)
LOG_BATCH = 200
CLOSE_RESTARTING = 1012  # "service restart": the client reconnects after a random 0-5 s


def _write_log_batch(batch: list[tuple[Any, tuple[Any, ...], dict[str, Any]]]) -> None:
    for fn, args, kwargs in batch:
        try:
            fn(*args, **kwargs)
        except Exception:
            logger.exception("signaling: call log write failed")


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.layer: LocalChannelLayer = get_channel_layer(LAYER)
        self.store = get_store()
        self.consumers: dict[str, SignalingConsumer] = {}
        self.by_user: dict[int, dict[str, SignalingConsumer]] = {}
        self.registry_address = ""
        self._registry: CallRegistry | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._log_queue: asyncio.Queue[tuple[Any, tuple[Any, ...], dict[str, Any]]] = asyncio.Queue()
        self._log_idle = asyncio.Event()
        self._log_idle.set()
        self.draining = False

    async def start(self) -> None:
        from signaling.calls import CallRegistry

        self.registry_address = await self.layer.new_channel()
        self._registry = CallRegistry(self)
        self._tasks = [
            self.loop.create_task(self._run_registry()),
            self.loop.create_task(self._run_presence_upkeep()),
            self.loop.create_task(self._run_call_log()),
            self.loop.create_task(self._run_gc_upkeep()),
            self.loop.create_task(self._run_liveness()),
        ]
        if hasattr(self.layer, "on_reconnect"):
            self.layer.on_reconnect.append(self._after_reconnect)

    @property
    def registry(self) -> CallRegistry:
        assert self._registry is not None
        return self._registry

    # --- sockets ---
    def add(self, consumer: SignalingConsumer) -> None:
        self.consumers[consumer.channel_name] = consumer
        self.by_user.setdefault(consumer.user_id, {})[consumer.device_id] = consumer

    def remove(self, consumer: SignalingConsumer) -> None:
        self.consumers.pop(consumer.channel_name, None)
        devices = self.by_user.get(consumer.user_id, {})
        if devices.get(consumer.device_id) is consumer:
            del devices[consumer.device_id]
        if not devices:
            self.by_user.pop(consumer.user_id, None)

    # --- delivery ---
    async def deliver(self, address: str, frame: dict[str, Any] | str) -> bool:
        """Send a frame to the socket at `address`; False when it could not be handed on."""
        text = frame if isinstance(frame, str) else dumps(frame)
        consumer = self.consumers.get(address)
        if consumer is not None:
            return await consumer.write(text)
        try:
            await self.layer.deliver(address, {"type": "signal.frame", "text": text})
        except Undeliverable:
            return False
        return True

    async def control(self, address: str, message: dict[str, Any]) -> bool:
        """An event for a socket's own task (close it, refresh its contacts)."""
        try:
            await self.layer.deliver(address, message)
        except Undeliverable:
            return False
        return True

    async def to_registry(self, home: str, event: dict[str, Any]) -> bool:
        if home == self.registry_address:
            await self.registry.handle(event)
            return True
        return await self.control(home, {"type": "signal.call", "event": event})

    async def route(self, home: str, event: dict[str, Any]) -> tuple[bool, str]:
        """Hand a call event to its home; if that home is dead, adopt the call (or find who did).
        Returns whether the event was handed on, and the home to remember."""
        if await self.to_registry(home, event):
            return True, home
        moved = await call_recovery.adopt(self.registry, event["call_id"], home)
        if moved is None or moved == home:
            return False, home
        return await self.to_registry(moved, event), moved

    async def _run_registry(self) -> None:
        while True:
            message = await self.layer.receive(self.registry_address)
            try:
                await self.registry.handle(message["event"])
            except Exception:
                if stopping():
                    raise asyncio.CancelledError from None
                logger.exception("signaling: call event failed")

    # --- the call log, written in order by one task ---
    def log(self, fn: Any, *args: Any, **kwargs: Any) -> None:
        self._log_idle.clear()
        self._log_queue.put_nowait((fn, args, kwargs))

    async def _run_call_log(self) -> None:
        """Writes queued meanwhile go to the sync thread together: one hop and one
        database connection per batch, not per write, so many calls starting at
        once do not queue behind a connection opened and closed per row."""
        while True:
            batch = [await self._log_queue.get()]
            while not self._log_queue.empty() and len(batch) < LOG_BATCH:
                batch.append(self._log_queue.get_nowait())
            try:
                await database_sync_to_async(_write_log_batch)(batch)
            except Exception:
                if stopping():
                    raise asyncio.CancelledError from None
                logger.exception("signaling: call log batch failed")
            if self._log_queue.empty():
                self._log_idle.set()

    async def call_log_written(self) -> None:
        """Wait until every queued call-log write is in the database (tests, shutdown)."""
        await self._log_idle.wait()

    async def _run_gc_upkeep(self) -> None:
        """Not a protocol timer (real seconds, not the clock seam): see gc_pauses."""
        while True:
            await asyncio.sleep(gc_pauses.FREEZE_EVERY_S)
            gc_pauses.freeze_survivors()

    # --- presence ---
    async def _run_presence_upkeep(self) -> None:
        """Refresh this process's presence entries, and notice contacts whose process died."""
        while True:
            await clock.sleep("SIGNALING_PRESENCE_TTL_MS", 1 / 3)
            try:
                await self.refresh_presence()
                await self.sweep_presence()
            except StoreUnavailable:
                if stopping():
                    raise asyncio.CancelledError from None

    async def refresh_presence(self) -> None:
        entries = [(c.user_id, c.device_id, c.channel_name) for c in self.consumers.values()]
        await self.store.refresh(entries, clock.wall() + clock.seconds("SIGNALING_PRESENCE_TTL_MS"))

    async def sweep_presence(self) -> None:
        watched = sorted({uid for c in self.consumers.values() for uid in c.contacts})
        if not watched:
            return
        online = await self.store.online(watched)
        for consumer in list(self.consumers.values()):
            await consumer.presence_changed({uid: uid in online for uid in consumer.contacts})

    async def _after_reconnect(self) -> None:
        """Redis came back (perhaps empty): put this process's sockets back and resync."""
        with contextlib.suppress(StoreUnavailable):
            await self.beat()
            await self.refresh_presence()
            await self.sweep_presence()

    # --- liveness: calls of dead processes ---
    async def _run_liveness(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception as exc:
                if stopping():
                    raise asyncio.CancelledError from None
                if not isinstance(exc, StoreUnavailable):
                    logger.exception("signaling: liveness beat failed")
            await asyncio.sleep(liveness_s() / 3)

    async def beat(self) -> None:
        if self.draining:
            return
        dead, orphans, lapsed = await self.store.beat(self.registry_address.partition("!")[0], liveness_s())
        await call_recovery.after_beat(self.registry, dead, orphans, lapsed)

    # --- graceful restart ---
    def begin_drain(self) -> None:
        """Stop beating and writing to sockets: they are about to be closed (graceful.py)."""
        self.draining = True
        for consumer in self.consumers.values():
            consumer.closing = True

    async def drain(self, timeout: float = 3.0) -> None:
        """After the sockets were sent their close (1012), wait (bounded) for them to leave and
        for the call log, then stop counting as alive, so other processes adopt this one's
        calls at once. A socket still open then is closed through ASGI (1000)."""
        self.begin_drain()
        deadline = self.loop.time() + timeout
        while self.consumers and self.loop.time() < deadline:
            await asyncio.sleep(0.05)
        for consumer in list(self.consumers.values()):
            await consumer.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.call_log_written(), max(0.1, deadline - self.loop.time()))
        with contextlib.suppress(StoreUnavailable):
            await self.store.mark_dead(self.registry_address.partition("!")[0])
        call_recovery.let_go(self.registry)


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}
_starting: dict[asyncio.AbstractEventLoop, asyncio.Future[Hub]] = {}


async def get_hub() -> Hub:
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is not None:
        return hub
    gc_pauses.freeze_survivors()  # what startup loaded (Django, the apps, the server)
    pending = _starting.get(loop)
    if pending is not None:
        return await pending
    for old in [lp for lp in _hubs if lp.is_closed()]:
        del _hubs[old]
    future: asyncio.Future[Hub] = loop.create_future()
    _starting[loop] = future
    try:
        hub = Hub(loop)
        await hub.start()
    except BaseException as exc:
        future.set_exception(exc)
        del _starting[loop]
        raise
    _hubs[loop] = hub
    del _starting[loop]
    future.set_result(hub)
    return hub
