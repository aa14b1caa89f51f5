"""Signaling state shared by every web process: who is online on which device,
which process holds a call, and calls waiting for an answer (for glare).

`MemoryStore` serves the single-process embedded mode; `RedisStore` is used
when REDIS_URL is set. Presence entries carry an expiry stamp that each
process refreshes for its own sockets, so a process that dies stops counting
as online after SIGNALING_PRESENCE_TTL_MS. Redis errors surface as
StoreUnavailable, which the consumer reports as `service_unavailable`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from django.conf import settings

from signaling import clock


class StoreUnavailable(Exception):
    pass


def _pair(a: int, b: int) -> str:
    return f"{min(a, b)}:{max(a, b)}"


class MemoryStore:
    def __init__(self) -> None:
        self.presence: dict[int, dict[str, tuple[str, float]]] = {}
        self.homes: dict[str, str] = {}
        self.device_calls: dict[tuple[int, str], dict[str, str]] = {}
        self.pending: dict[str, dict[str, dict[str, Any]]] = {}

    async def add_device(self, user_id: int, device_id: str, address: str, expires: float) -> None:
        self.presence.setdefault(user_id, {})[device_id] = (address, expires)

    async def claim_device(
        self, user_id: int, device_id: str, address: str, expires: float, limit: int
    ) -> dict[str, str] | None:
        # No await between the count and the write: one event loop makes it atomic.
        now = clock.wall()
        before = {d: addr for d, (addr, exp) in self.presence.get(user_id, {}).items() if exp > now}
        if len(before.keys() - {device_id}) >= limit:
            return None
        self.presence.setdefault(user_id, {})[device_id] = (address, expires)
        return before

    async def refresh(self, entries: list[tuple[int, str, str]], expires: float) -> None:
        for user_id, device_id, address in entries:
            await self.add_device(user_id, device_id, address, expires)

    async def remove_device(self, user_id: int, device_id: str, address: str) -> None:
        devices = self.presence.get(user_id, {})
        if devices.get(device_id, ("",))[0] == address:
            del devices[device_id]
        if not devices:
            self.presence.pop(user_id, None)

    async def devices(self, user_id: int) -> dict[str, str]:
        now = clock.wall()
        return {d: addr for d, (addr, exp) in self.presence.get(user_id, {}).items() if exp > now}

    async def online(self, user_ids: list[int]) -> set[int]:
        return {uid for uid in user_ids if await self.devices(uid)}

    async def set_home(self, call_id: str, home: str) -> None:
        self.homes[call_id] = home

    async def home(self, call_id: str) -> str | None:
        return self.homes.get(call_id)

    async def forget_call(self, call_id: str, parties: list[tuple[int, str]], pair: tuple[int, int]) -> None:
        self.homes.pop(call_id, None)
        for user_id, device_id in parties:
            calls = self.device_calls.get((user_id, device_id), {})
            calls.pop(call_id, None)
            if not calls:
                self.device_calls.pop((user_id, device_id), None)
        await self.unpend(call_id, pair)

    async def add_device_call(self, user_id: int, device_id: str, call_id: str, home: str) -> None:
        self.device_calls.setdefault((user_id, device_id), {})[call_id] = home

    async def calls_of_device(self, user_id: int, device_id: str) -> dict[str, str]:
        return dict(self.device_calls.get((user_id, device_id), {}))

    async def pend(self, call_id: str, pair: tuple[int, int], info: dict[str, Any]) -> dict[str, dict[str, Any]]:
        waiting = self.pending.setdefault(_pair(*pair), {})
        waiting[call_id] = info
        return dict(waiting)

    async def unpend(self, call_id: str, pair: tuple[int, int]) -> None:
        waiting = self.pending.get(_pair(*pair), {})
        waiting.pop(call_id, None)
        if not waiting:
            self.pending.pop(_pair(*pair), None)


class RedisStore:
    """The same operations on Redis hashes (keys under `numfree.signal.`)."""

    DAY = 86400

    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[asyncio.AbstractEventLoop, Any] = {}

    def _redis(self) -> Any:
        import redis.asyncio as aioredis

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for old in [lp for lp in self._clients if lp.is_closed()]:
                del self._clients[old]
            client = aioredis.Redis.from_url(
                self.url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True, max_connections=1000
            )
            self._clients[loop] = client
        return client

    async def _run(self, coro_fn: Any) -> Any:
        try:
            return await coro_fn(self._redis())
        except Exception as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise StoreUnavailable(type(exc).__name__) from exc

    @staticmethod
    def _key(*parts: object) -> str:
        return "numfree.signal." + ":".join(str(p) for p in parts)

    def _ttl_s(self) -> int:
        return max(1, int(settings.SIGNALING_PRESENCE_TTL_MS / 1000) + 1)

    async def add_device(self, user_id: int, device_id: str, address: str, expires: float) -> None:
        await self.refresh([(user_id, device_id, address)], expires)

    # Counts the live devices other than this one and adds it only under the limit, in one step,
    # so six sign-ins at once cannot all pass a check made before any of them was written.
    CLAIM_DEVICE = """
    local now, device, limit = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
    local entries = redis.call('HGETALL', KEYS[1])
    local live, others = {}, 0
    for i = 1, #entries, 2 do
      local expires = tonumber(string.match(entries[i + 1], '|([^|]*)$')) or 0
      if expires > now then
        table.insert(live, entries[i]); table.insert(live, entries[i + 1])
        if entries[i] ~= device then others = others + 1 end
      end
    end
    if others >= limit then return {0, live} end
    redis.call('HSET', KEYS[1], device, ARGV[4])
    redis.call('EXPIRE', KEYS[1], ARGV[5])
    return {1, live}
    """

    async def claim_device(
        self, user_id: int, device_id: str, address: str, expires: float, limit: int
    ) -> dict[str, str] | None:
        key = self._key("P", user_id)
        args = [clock.wall(), device_id, limit, f"{address}|{expires}", self._ttl_s()]
        claimed, flat = await self._run(lambda r: r.eval(self.CLAIM_DEVICE, 1, key, *args))
        if not claimed:
            return None
        return {flat[i]: flat[i + 1].rsplit("|", 1)[0] for i in range(0, len(flat), 2)}

    async def refresh(self, entries: list[tuple[int, str, str]], expires: float) -> None:
        async def run(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            for user_id, device_id, address in entries:
                key = self._key("P", user_id)
                pipe.hset(key, device_id, f"{address}|{expires}")
                pipe.expire(key, self._ttl_s())
            await pipe.execute()

        if entries:
            await self._run(run)

    async def remove_device(self, user_id: int, device_id: str, address: str) -> None:
        key = self._key("P", user_id)

        async def run(r: Any) -> None:
            value = await r.hget(key, device_id)
            if value and value.rsplit("|", 1)[0] == address:
                await r.hdel(key, device_id)

        await self._run(run)

    @staticmethod
    def _live(entries: dict[str, str]) -> dict[str, str]:
        now = clock.wall()
        live = {}
        for device_id, value in entries.items():
            address, _, expires = value.rpartition("|")
            if float(expires or 0) > now:
                live[device_id] = address
        return live

    async def devices(self, user_id: int) -> dict[str, str]:
        return self._live(await self._run(lambda r: r.hgetall(self._key("P", user_id))))

    async def online(self, user_ids: list[int]) -> set[int]:
        async def run(r: Any) -> list[dict[str, str]]:
            pipe = r.pipeline(transaction=False)
            for uid in user_ids:
                pipe.hgetall(self._key("P", uid))
            return await pipe.execute()

        if not user_ids:
            return set()
        results = await self._run(run)
        return {uid for uid, entries in zip(user_ids, results, strict=True) if self._live(entries)}

    async def set_home(self, call_id: str, home: str) -> None:
        await self._run(lambda r: r.set(self._key("C", call_id), home, ex=self.DAY))

    async def home(self, call_id: str) -> str | None:
        return await self._run(lambda r: r.get(self._key("C", call_id)))

    async def forget_call(self, call_id: str, parties: list[tuple[int, str]], pair: tuple[int, int]) -> None:
        async def run(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            pipe.delete(self._key("C", call_id))
            for user_id, device_id in parties:
                pipe.hdel(self._key("D", user_id, device_id), call_id)
            pipe.hdel(self._key("G", _pair(*pair)), call_id)
            await pipe.execute()

        await self._run(run)

    async def add_device_call(self, user_id: int, device_id: str, call_id: str, home: str) -> None:
        key = self._key("D", user_id, device_id)

        async def run(r: Any) -> None:
            await r.pipeline(transaction=False).hset(key, call_id, home).expire(key, self.DAY).execute()

        await self._run(run)

    async def calls_of_device(self, user_id: int, device_id: str) -> dict[str, str]:
        return await self._run(lambda r: r.hgetall(self._key("D", user_id, device_id)))

    async def pend(self, call_id: str, pair: tuple[int, int], info: dict[str, Any]) -> dict[str, dict[str, Any]]:
        key = self._key("G", _pair(*pair))
        lifetime = max(1, int(settings.SIGNALING_INVITE_LIFETIME_MS / 1000) + 1)

        async def run(r: Any) -> list[Any]:
            pipe = r.pipeline(transaction=True)
            pipe.hset(key, call_id, json.dumps(info)).expire(key, lifetime).hgetall(key)
            return await pipe.execute()

        result = await self._run(run)
        return {cid: json.loads(raw) for cid, raw in result[-1].items()}

    async def unpend(self, call_id: str, pair: tuple[int, int]) -> None:
        await self._run(lambda r: r.hdel(self._key("G", _pair(*pair)), call_id))


_store: MemoryStore | RedisStore | None = None


def get_store() -> MemoryStore | RedisStore:
    global _store
    if _store is None:
        _store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryStore()
    return _store


def reset_store() -> None:
    """Tests: a fresh store (and a fresh Redis client) for the next test."""
    global _store
    _store = None
