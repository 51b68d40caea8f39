"""The Redis backend's storage calls take turns (storage/redis.py `call`): at most
POOL_CALLS at once per process, from a plain connection pool sized for them. Many more
calls than that at once all succeed (none meets "Too many connections"); a call that
finds every turn taken for POOL_WAIT_S fails alone with a StorageError."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from debrief.storage import redis as redis_storage
from debrief.storage.base import StorageError
from debrief.storage.redis import POOL_CALLS, POOL_SPARE, RedisStorage


@pytest.fixture
async def store() -> AsyncIterator[RedisStorage]:
    store = RedisStorage("redis://127.0.0.1:6379/0", prefix=f"pool-{secrets.token_hex(4)}:")
    await store.open()
    try:
        yield store
    finally:
        await store.drop_everything()
        await store.close()


async def holding(store: RedisStorage) -> None:
    """One loop turn: the task just created takes its turn before its first await."""
    await asyncio.sleep(0)
    assert store._slots.locked()


async def test_far_more_calls_than_connections_all_succeed(store: RedisStorage) -> None:
    await store.put_record("review", "r1", {"title": "one"}, "r1")
    width = 4 * (POOL_CALLS + POOL_SPARE)
    found = await asyncio.gather(*(store.get_record("review", "r1") for _ in range(width)))
    assert found == [{"title": "one"}] * width
    pool = store.client.connection_pool
    assert len(pool._in_use_connections) == 0  # every one handed back
    assert len(pool._available_connections) <= POOL_CALLS


async def test_a_call_that_finds_no_turn_fails_alone(
    store: RedisStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_storage, "POOL_WAIT_S", 0.2)
    store._slots = asyncio.Semaphore(1)
    list_key = f"{store.prefix}nothing-comes"
    # BLPOP holds the only turn until its own timeout (2 s) or an item arrives
    holder = asyncio.create_task(store.call(store.client.blpop([list_key], timeout=2), "wait"))
    await holding(store)
    with pytest.raises(StorageError, match="calls in flight"):
        await store.get_record("review", "r1")
    await store.client.rpush(list_key, "go")  # outside `call`: a spare connection
    assert await holder == (list_key.encode(), b"go")
    assert await store.get_record("review", "r1") is None  # the turn is free again


async def test_a_waiting_call_runs_when_a_turn_frees(store: RedisStorage) -> None:
    store._slots = asyncio.Semaphore(1)
    list_key = f"{store.prefix}soon"
    holder = asyncio.create_task(store.call(store.client.blpop([list_key], timeout=5), "wait"))
    await holding(store)
    waiter = asyncio.create_task(store.get_record("review", "r1"))
    await asyncio.sleep(0)
    assert not waiter.done()
    await store.client.rpush(list_key, "go")
    assert await holder == (list_key.encode(), b"go")
    assert await waiter is None


async def test_a_cancelled_wait_gives_no_turn_away(store: RedisStorage) -> None:
    store._slots = asyncio.Semaphore(1)
    list_key = f"{store.prefix}cancel"
    holder = asyncio.create_task(store.call(store.client.blpop([list_key], timeout=5), "wait"))
    await holding(store)
    waiter = asyncio.create_task(store.get_record("review", "r1"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await store.client.rpush(list_key, "go")
    await holder
    assert not store._slots.locked()  # the one turn is back
    assert await store.get_record("review", "r1") is None
