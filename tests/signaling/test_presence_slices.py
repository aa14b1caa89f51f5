"""Presence refreshed and read a slice of users at a time (RedisStore.REFRESH / ONLINE scripts):
the same answers as the in-process store, across slice boundaries, with several devices per user,
expired devices, users never seen, and a refresh that keeps a device alive past its first expiry."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from signaling import clock
from signaling.state_store import MemoryStore, RedisStore

pytestmark = pytest.mark.redis

USERS = 2 * RedisStore.SLICE + 37  # three slices, the last one short


@pytest.fixture
async def redis_store():  # type: ignore[no-untyped-def]
    store = RedisStore(settings.REDIS_URL)
    original = store._key
    prefix = uuid.uuid4().hex  # this test's keys only; removed afterwards
    store._key = lambda *parts: f"{prefix}:" + original(*parts)  # type: ignore[method-assign]
    yield store
    redis = store._redis()
    async for key in redis.scan_iter(f"{prefix}:*"):
        await redis.delete(key)


async def test_redis_presence_matches_the_in_process_store_across_slices(redis_store) -> None:
    now = clock.wall()
    live, expired = now + 30, now - 1
    # Every third user has a second device; every fifth user's only device has expired.
    entries = [(uid, "dev-a", f"proc.a!{uid}") for uid in range(USERS) if uid % 5]
    entries += [(uid, "dev-b", f"proc.b!{uid}") for uid in range(0, USERS, 3) if uid % 5]
    stale = [(uid, "dev-a", f"proc.a!{uid}") for uid in range(0, USERS, 5)]
    asked = [*range(USERS), USERS + 1, USERS + 2]  # two users with no entry at all

    answers = []
    for store in (MemoryStore(), redis_store):
        await store.refresh(stale, expired)
        await store.refresh(entries, live)
        answers.append(await store.online(asked))

    expected = {uid for uid in range(USERS) if uid % 5}
    assert answers[0] == expected
    assert answers[1] == expected
    assert await redis_store.devices(3) == {"dev-a": "proc.a!3", "dev-b": "proc.b!3"}
    assert await redis_store.devices(5) == {}


async def test_a_refresh_keeps_a_device_online_past_its_first_expiry(redis_store) -> None:
    now = clock.wall()
    users = [(uid, "dev", f"proc!{uid}") for uid in range(RedisStore.SLICE + 1)]
    await redis_store.refresh(users, now - 1)  # as if the last refresh had lapsed
    assert await redis_store.online([u for u, _, _ in users]) == set()

    await redis_store.refresh(users, now + 30)

    assert await redis_store.online([u for u, _, _ in users]) == {u for u, _, _ in users}
