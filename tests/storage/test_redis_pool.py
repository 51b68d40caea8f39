"""storage/redis_pool.py on the real Redis: at most max_connections, a caller waits for
one to come back (or gives up after the timeout), a waiter that leaves passes its turn
on, a connection killed while idle in the pool is replaced before use, and a command a
frozen Redis never answers is cut off by the pool's watchdog."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from debrief.storage.base import StorageError
from debrief.storage.redis import RedisStorage
from debrief.storage.redis_pool import WaitingConnectionPool
from support.scaleout import ThrowawayRedis

URL = "redis://127.0.0.1:6379/0"


def pool(max_connections: int, timeout: float = 5.0) -> WaitingConnectionPool:
    made = RedisStorage(URL).connect(max_connections=max_connections, timeout=timeout)
    found = made.connection_pool
    assert isinstance(found, WaitingConnectionPool)
    return found


async def turns() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_caller_waits_for_a_connection_to_come_back() -> None:
    p = pool(2)
    try:
        first, second = await p.get_connection(), await p.get_connection()
        third = asyncio.create_task(p.get_connection())
        await turns()
        assert not third.done()  # no third connection is made
        await p.release(first)
        assert await asyncio.wait_for(third, 5) is first
        assert len(p._in_use_connections) == 2
        await p.release(second)
        await p.release(first)
    finally:
        await p.disconnect()


async def test_a_caller_gives_up_after_the_timeout() -> None:
    p = pool(1, timeout=0.05)
    try:
        held = await p.get_connection()
        with pytest.raises(RedisConnectionError, match="No connection available"):
            await p.get_connection()
        await p.release(held)
        again = await p.get_connection()  # nothing was lost on the way
        await p.release(again)
    finally:
        await p.disconnect()


async def test_a_waiter_that_leaves_passes_its_turn_on() -> None:
    p = pool(1)
    try:
        held = await p.get_connection()
        leaving = asyncio.create_task(p.get_connection())
        staying = asyncio.create_task(p.get_connection())
        await turns()
        await p.release(held)  # wakes `leaving`, which is cancelled before it runs
        leaving.cancel()
        assert await asyncio.wait_for(staying, 5) is held
        assert leaving.cancelled()
        await p.release(held)
    finally:
        await p.disconnect()


async def test_a_connection_killed_while_idle_is_replaced_before_use() -> None:
    client = RedisStorage(URL).connect(max_connections=1)
    other = aioredis.Redis.from_url(URL)
    try:
        before = await client.client_id()
        await other.client_kill_filter(_id=before)
        assert await client.ping()  # not "Connection closed by server"
        assert await client.client_id() != before
    finally:
        await client.aclose()
        await other.aclose()


async def test_a_command_a_frozen_redis_never_answers_is_cut_off(tmp_path: Path) -> None:
    server = ThrowawayRedis(tmp_path / "redis").start()
    assert server.proc is not None
    store = RedisStorage(server.url, prefix="pool-test:", command_timeout=0.4)
    await store.open()
    try:
        await store.put_record("invite", "c1", {"code": "c1"})
        os.kill(server.proc.pid, signal.SIGSTOP)  # alive, holding its sockets, silent
        try:
            started = time.monotonic()
            with pytest.raises(StorageError):  # not TimeoutError: the watchdog cut it
                await asyncio.wait_for(store.get_record("invite", "c1"), 10)
            assert time.monotonic() - started >= 0.4  # and not before its limit
        finally:
            os.kill(server.proc.pid, signal.SIGCONT)
        # the cut connection is replaced on its next use; nothing else is stuck
        assert await store.get_record("invite", "c1") == {"code": "c1"}
    finally:
        await store.close()
        server.kill()


async def test_a_blocking_client_keeps_its_own_socket_timeout() -> None:
    """The relay's blocking reads and the unlock listener's pub/sub set socket_timeout
    themselves: no watchdog cuts their long waits."""
    store = RedisStorage(URL, command_timeout=0.1)
    blocking = store.connect(socket_timeout=None, max_connections=1)
    try:
        # BLPOP's own 1 s runs out (None); a watchdog at 0.1 s would have cut it (an error)
        assert await blocking.blpop(["pool-test:nothing"], timeout=1) is None
    finally:
        await blocking.aclose()
