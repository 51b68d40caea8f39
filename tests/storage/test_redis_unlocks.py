"""A process waiting on another's Redis lock is woken by the unlock (storage/redis_unlocks.py),
and still gets the lock by polling when it cannot hear the unlocks."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from debrief.storage import redis as redis_storage
from debrief.storage.redis import RedisStorage
from debrief.storage.redis_unlocks import UNLOCK
from support.server import wait_until

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def pair(two_redis: tuple[RedisStorage, RedisStorage]) -> tuple[RedisStorage, RedisStorage]:
    """A lock's holder and its waiter, in two processes as far as Redis can tell."""
    return two_redis


async def listening(store: RedisStorage) -> None:
    """Until ``store`` hears the unlocks (it would start listening at its first wait)."""
    store.unlocks.start()
    await store.unlocks.subscribed.wait()


async def flag_left(store: RedisStorage, name: str) -> None:
    """Until a waiter's failed attempt has left its flag beside lock ``name``."""

    async def left() -> bool:
        return bool(await store.client.exists(f"{store.prefix}lockwait:{name}"))

    await wait_until(left, timeout=5)


async def wait_behind(holder: RedisStorage, waiter: RedisStorage, name: str) -> None:
    """``waiter`` asks for lock ``name`` while ``holder`` has it; once it waits, the holder
    lets go. Returns when the waiter holds the lock (or fails the test after 5 s)."""
    got_it = asyncio.Event()

    async def take() -> None:
        async with waiter.lock(name):
            got_it.set()

    async with holder.lock(name):
        task = asyncio.create_task(take())
        await flag_left(holder, name)
        assert not got_it.is_set()
    await asyncio.wait_for(task, 5)
    assert got_it.is_set()


async def test_a_waiter_is_woken_by_the_unlock_not_its_timer(
    pair: tuple[RedisStorage, RedisStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder, waiter = pair
    await listening(waiter)
    # A listening waiter would retry only after a minute: getting the lock in time
    # means the unlock woke it.
    monkeypatch.setattr(redis_storage, "HEARD_RETRY_S", 60.0)
    for round_ in range(3):
        await wait_behind(holder, waiter, f"review:r{round_}")
    # The flag went with the unlock that announced it; nobody waits now.
    assert not await holder.client.exists(f"{holder.prefix}lockwait:review:r0")
    assert not waiter.unlocks._waiters


async def test_a_contended_lock_publishes_only_when_someone_waits(
    pair: tuple[RedisStorage, RedisStorage],
) -> None:
    holder, waiter = pair
    listener = aioredis.Redis.from_url(URL)
    pubsub = listener.pubsub()
    await pubsub.subscribe(holder.unlocks.channel)
    try:
        async with holder.lock("review:quiet"):
            pass
        await listening(waiter)
        await wait_behind(holder, waiter, "review:busy")
        # Published before the waiter got the lock, so already on its way to us.
        heard = []
        while (message := await pubsub.get_message(timeout=0.5)) is not None:
            if message["type"] == "message":
                heard.append(message["data"])
        assert heard == [b"review:busy"]
    finally:
        await pubsub.aclose()
        await listener.aclose()


async def test_the_listener_comes_back_after_its_connection_is_killed(
    pair: tuple[RedisStorage, RedisStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder, waiter = pair
    await listening(waiter)
    clients = await holder.client.client_list(_type="pubsub")
    ours = [c["id"] for c in clients if c.get("name") == waiter.unlocks.client_name]
    assert len(ours) == 1
    before = waiter.unlocks.subscriptions
    await holder.client.client_kill_filter(_id=ours[0])

    # It notices, reconnects and listens again; a wait behind the holder is woken.
    async def listening_again() -> bool:
        return waiter.unlocks.subscriptions > before and waiter.unlocks.subscribed.is_set()

    await wait_until(listening_again, timeout=5)
    monkeypatch.setattr(redis_storage, "HEARD_RETRY_S", 60.0)
    await wait_behind(holder, waiter, "review:again")


async def test_a_waiter_that_cannot_listen_still_gets_the_lock_by_polling(
    pair: tuple[RedisStorage, RedisStorage],
) -> None:
    holder, waiter = pair
    # Its wake-ups would come from a Redis that is not there.
    nowhere = RedisStorage("redis://127.0.0.1:1/0", prefix=holder.prefix)
    waiter.unlocks._connect = nowhere.connect
    for round_ in range(3):
        await wait_behind(holder, waiter, f"review:deaf{round_}")
    assert not waiter.unlocks.subscribed.is_set()


async def test_a_lock_that_is_not_ours_is_not_released_or_announced(
    pair: tuple[RedisStorage, RedisStorage],
) -> None:
    holder, other = pair
    async with holder.lock("review:mine"):
        key = [f"{other.prefix}lock:review:mine", f"{other.prefix}lockwait:review:mine"]
        await other.client.set(key[1], "1")
        released = await other.client.eval(
            UNLOCK, 2, *key, "not-the-token", other.unlocks.channel, "review:mine"
        )
        assert released == 0
        assert await other.client.exists(key[0])
        assert await other.client.exists(key[1])  # the real holder's unlock announces it
