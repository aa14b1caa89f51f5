"""Signaling state shared by every web process: who is online on which device,
which process holds a call, and calls waiting for an answer (for glare).

A call's record (parties, devices, times: no emails, no SDP) and its home are
written at invite and answer; every process beats a liveness stamp, so the
calls of a process that stopped beating can be adopted by another one with a
compare-and-set of the home (`adopt`). Relayed frames never touch the store.

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


def process_of(address: str) -> str:
    """The process part of a channel or registry address (`<process>!<n>`)."""
    return address.partition("!")[0]


# How long an unanswered beat leaves a process counted alive; beats come every third of it.
LIVENESS_MAX_S = 3.0
# A dead process's stamp is kept this long (so every process sees it), then dropped once it holds no call.
DEAD_KEPT_S = 3600


def liveness_s() -> float:
    return min(LIVENESS_MAX_S, settings.SIGNALING_PRESENCE_TTL_MS / 1000)


class Adoption:
    """What `adopt` found: the record when this process now holds the call, or where it is."""

    def __init__(self, status: str, home: str | None = None, record: dict[str, Any] | None = None) -> None:
        self.status = status  # "adopted", "moved" (home is elsewhere), "alive" (its home still beats), "gone"
        self.home = home
        self.record = record


class MemoryStore:
    def __init__(self) -> None:
        self.presence: dict[int, dict[str, tuple[str, float]]] = {}
        self.homes: dict[str, str] = {}
        self.device_calls: dict[tuple[int, str], dict[str, str]] = {}
        self.pending: dict[str, dict[str, dict[str, Any]]] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.beats: dict[str, float] = {}  # process -> last beat (wall seconds)
        self.process_calls: dict[str, set[str]] = {}

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

    async def set_home(self, call_id: str, home: str, record: dict[str, Any] | None = None) -> None:
        self.homes[call_id] = home
        if record is not None:
            self.records[call_id] = dict(record)
            self.process_calls.setdefault(process_of(home), set()).add(call_id)

    async def home(self, call_id: str) -> str | None:
        return self.homes.get(call_id)

    async def update_call(self, call_id: str, fields: dict[str, Any]) -> None:
        if call_id in self.records:
            self.records[call_id].update(fields)

    async def beat(self, process: str, alive_for: float) -> tuple[set[str], dict[str, str], bool]:
        """Stamp this process alive; returns the dead processes, the calls still homed on them,
        and whether this process's own stamp had lapsed (others may have adopted its calls)."""
        now = clock.wall()
        lapsed = 0 < self.beats.get(process, now) <= now - alive_for
        self.beats[process] = now
        dead = {p for p, at in self.beats.items() if at <= now - alive_for}
        for p in [p for p in dead if self.beats[p] < now - DEAD_KEPT_S and not self.process_calls.get(p)]:
            del self.beats[p]
        orphans = {c: self.homes[c] for p in dead for c in self.process_calls.get(p, ()) if c in self.homes}
        return dead, orphans, lapsed

    async def mark_dead(self, process: str) -> None:
        self.beats[process] = 0.0

    def _alive(self, process: str, alive_for: float) -> bool:
        return self.beats.get(process, 0.0) > clock.wall() - alive_for

    async def adopt(self, call_id: str, expected: str, new_home: str, alive_for: float) -> Adoption:
        # No await between the read and the write: one event loop makes this the compare-and-set.
        home = self.homes.get(call_id)
        if home is None or call_id not in self.records:
            return Adoption("gone")
        if home != expected:
            return Adoption("moved", home)
        if self._alive(process_of(home), alive_for):
            return Adoption("alive", home)
        self.homes[call_id] = new_home
        self.process_calls.get(process_of(home), set()).discard(call_id)
        self.process_calls.setdefault(process_of(new_home), set()).add(call_id)
        return Adoption("adopted", new_home, dict(self.records[call_id]))

    async def live_devices(self, user_ids: list[int], alive_for: float) -> dict[int, dict[str, str]]:
        """Each user's devices whose presence entry is current and whose process still beats."""
        return {
            uid: {d: a for d, a in (await self.devices(uid)).items() if self._alive(process_of(a), alive_for)}
            for uid in user_ids
        }

    async def forget_call(
        self, call_id: str, parties: list[tuple[int, str]], pair: tuple[int, int], home: str = ""
    ) -> None:
        self.homes.pop(call_id, None)
        self.records.pop(call_id, None)
        self.process_calls.get(process_of(home), set()).discard(call_id)
        for user_id, device_id in parties:
            calls = self.device_calls.get((user_id, device_id), {})
            calls.pop(call_id, None)
            if not calls:
                self.device_calls.pop((user_id, device_id), None)
        await self.unpend(call_id, pair)

    async def add_device_call(self, user_id: int, device_id: str, call_id: str, home: str) -> None:
        self.device_calls.setdefault((user_id, device_id), {})[call_id] = home

    async def calls_of_device(self, user_id: int, device_id: str) -> dict[str, str]:
        calls = self.device_calls.get((user_id, device_id), {})
        return {call_id: self.homes[call_id] for call_id in calls if call_id in self.homes}

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

    # The periodic refresh of every socket of a process, and the sweep over every contact they
    # watch, as one script per slice of SLICE users instead of a pipeline of one or two commands
    # each: redis-py builds and parses each command in Python, and at 10,000 sockets the two
    # pipelines took 145 + 130 ms of the web process's CPU every TTL/3, a stall every socket
    # felt. As scripts, with hiredis: about 35 + 15 ms, each slice a short stall.
    SLICE = 500
    REFRESH = """
    local ttl = ARGV[1]
    for i, key in ipairs(KEYS) do
      redis.call('HSET', key, ARGV[2 * i], ARGV[2 * i + 1])
      redis.call('EXPIRE', key, ttl)
    end
    """
    # The positions (1-based) of the keys with a device whose expiry is after ARGV[1].
    ONLINE = """
    local now, found = tonumber(ARGV[1]), {}
    for i, key in ipairs(KEYS) do
      for _, value in ipairs(redis.call('HVALS', key)) do
        if (tonumber(string.match(value, '|([^|]*)$')) or 0) > now then
          table.insert(found, i)
          break
        end
      end
    end
    return found
    """

    async def refresh(self, entries: list[tuple[int, str, str]], expires: float) -> None:
        for start in range(0, len(entries), self.SLICE):
            part = entries[start : start + self.SLICE]
            keys = [self._key("P", user_id) for user_id, _, _ in part]
            args: list[object] = [self._ttl_s()]
            for _, device_id, address in part:
                args += [device_id, f"{address}|{expires}"]
            await self._run(lambda r, keys=keys, args=args: r.eval(self.REFRESH, len(keys), *keys, *args))

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
        found: set[int] = set()
        for start in range(0, len(user_ids), self.SLICE):
            part = user_ids[start : start + self.SLICE]
            keys = [self._key("P", uid) for uid in part]
            live = await self._run(lambda r, keys=keys: r.eval(self.ONLINE, len(keys), *keys, clock.wall()))
            found.update(part[i - 1] for i in live)
        return found

    async def set_home(self, call_id: str, home: str, record: dict[str, Any] | None = None) -> None:
        async def run(r: Any) -> None:
            pipe = r.pipeline(transaction=True)
            pipe.set(self._key("C", call_id), home, ex=self.DAY)
            if record is not None:
                pipe.set(self._key("R", call_id), json.dumps(record), ex=self.DAY)
                pipe.sadd(self._key("K", process_of(home)), call_id).expire(self._key("K", process_of(home)), self.DAY)
            await pipe.execute()

        await self._run(run)

    async def home(self, call_id: str) -> str | None:
        return await self._run(lambda r: r.get(self._key("C", call_id)))

    # Merges fields into the JSON record, if the call still has one.
    UPDATE_CALL = """
    local raw = redis.call('GET', KEYS[1])
    if not raw then return 0 end
    local record = cjson.decode(raw)
    for k, v in pairs(cjson.decode(ARGV[1])) do record[k] = v end
    redis.call('SET', KEYS[1], cjson.encode(record), 'KEEPTTL')
    return 1
    """

    async def update_call(self, call_id: str, fields: dict[str, Any]) -> None:
        key = self._key("R", call_id)
        await self._run(lambda r: r.eval(self.UPDATE_CALL, 1, key, json.dumps(fields)))

    # Stamps the process alive (Redis's clock, so machines' clocks need not agree); returns the
    # processes whose stamp is older than ARGV[2] seconds and the calls still homed on them.
    BEAT = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local before = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]) or '-1')
    local lapsed = 0
    if before > 0 and before <= now - tonumber(ARGV[2]) then lapsed = 1 end
    redis.call('ZADD', KEYS[1], now, ARGV[1])
    local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
    local orphans = {}
    for _, process in ipairs(dead) do
      local calls = redis.call('SMEMBERS', ARGV[3] .. process)
      if #calls == 0 and tonumber(redis.call('ZSCORE', KEYS[1], process)) < now - tonumber(ARGV[4]) then
        redis.call('ZREM', KEYS[1], process)
      end
      for _, call_id in ipairs(calls) do
        local home = redis.call('GET', ARGV[5] .. call_id)
        if home then table.insert(orphans, call_id); table.insert(orphans, home)
        else redis.call('SREM', ARGV[3] .. process, call_id) end
      end
    end
    return {dead, orphans, lapsed}
    """

    async def beat(self, process: str, alive_for: float) -> tuple[set[str], dict[str, str], bool]:
        args = [process, alive_for, self._key("K", ""), DEAD_KEPT_S, self._key("C", "")]
        dead, flat, lapsed = await self._run(lambda r: r.eval(self.BEAT, 1, self._key("alive"), *args))
        return set(dead), {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}, bool(lapsed)

    async def mark_dead(self, process: str) -> None:
        await self._run(lambda r: r.zadd(self._key("alive"), {process: 0}))

    # The compare-and-set: the home moves to ARGV[2] only if it is still ARGV[1] and that
    # process's stamp is older than ARGV[3] seconds; two processes adopting at once: one wins.
    ADOPT = """
    local home = redis.call('GET', KEYS[1])
    local record = redis.call('GET', KEYS[2])
    if not home or not record then return {'gone'} end
    if home ~= ARGV[1] then return {'moved', home} end
    local t = redis.call('TIME')
    local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
    local stamp = tonumber(redis.call('ZSCORE', KEYS[3], ARGV[4]) or '0')
    if stamp > now - tonumber(ARGV[3]) then return {'alive', home} end
    redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
    redis.call('SREM', KEYS[4], ARGV[6])
    redis.call('SADD', KEYS[5], ARGV[6])
    redis.call('EXPIRE', KEYS[5], ARGV[5])
    return {'adopted', ARGV[2], record}
    """

    async def adopt(self, call_id: str, expected: str, new_home: str, alive_for: float) -> Adoption:
        keys = [
            self._key("C", call_id),
            self._key("R", call_id),
            self._key("alive"),
            self._key("K", process_of(expected)),
            self._key("K", process_of(new_home)),
        ]
        args = [expected, new_home, alive_for, process_of(expected), self.DAY, call_id]
        result = await self._run(lambda r: r.eval(self.ADOPT, len(keys), *keys, *args))
        record = json.loads(result[2]) if len(result) > 2 else None
        return Adoption(result[0], result[1] if len(result) > 1 else None, record)

    async def live_devices(self, user_ids: list[int], alive_for: float) -> dict[int, dict[str, str]]:
        async def run(r: Any) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            pipe.time()
            for uid in user_ids:
                pipe.hgetall(self._key("P", uid))
            pipe.zrange(self._key("alive"), 0, -1, withscores=True)
            return await pipe.execute()

        now_parts, *entries, stamps = await self._run(run)
        now = now_parts[0] + now_parts[1] / 1_000_000
        alive = {process for process, at in stamps if at > now - alive_for}
        return {
            uid: {d: a for d, a in self._live(found).items() if process_of(a) in alive}
            for uid, found in zip(user_ids, entries, strict=True)
        }

    async def forget_call(
        self, call_id: str, parties: list[tuple[int, str]], pair: tuple[int, int], home: str = ""
    ) -> None:
        async def run(r: Any) -> None:
            pipe = r.pipeline(transaction=False)
            pipe.delete(self._key("C", call_id), self._key("R", call_id))
            if home:
                pipe.srem(self._key("K", process_of(home)), call_id)
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
        """The device's live calls and where each is now (its home may have been adopted since)."""

        async def run(r: Any) -> dict[str, str]:
            calls = await r.hgetall(self._key("D", user_id, device_id))
            if not calls:
                return {}
            homes = await r.mget([self._key("C", call_id) for call_id in calls])
            return {call_id: home for call_id, home in zip(calls, homes, strict=True) if home}

        return await self._run(run)

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
