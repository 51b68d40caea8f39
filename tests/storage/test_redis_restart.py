"""The Redis backend across a Redis restart (same port, same data, the process not
restarted): connections that sat idle in the pool while Redis was down are replaced,
not handed out. Commands are never retried (storage/redis.py), so a stale connection
fails the command it is given: a reconnecting client's first update failed its room
(1011) and its change was never stored (tests/e2e/test_scaleout.py, Redis restart).

A private redis-server (tests/support/scaleout.py), since this one is killed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from debrief.storage.redis import RedisStorage
from support.scaleout import ThrowawayRedis

WIDTH = 8  # commands at once: the pool opens a connection for each


async def loop_turns(count: int) -> None:
    """Let the event loop poll its sockets and run what it read (here: the EOFs the
    killed server left on the idle connections). Turns, not time."""
    for _ in range(count):
        await asyncio.sleep(0)


async def test_connections_idle_across_a_redis_restart_are_not_reused(tmp_path: Path) -> None:
    redis = ThrowawayRedis(tmp_path / "redis").start()
    store = RedisStorage(redis.url, prefix="restart:")
    await store.open()
    try:
        await store.put_record("review", "r1", {"title": "kept"}, "r1")
        before = await asyncio.gather(*(store.get_record("review", "r1") for _ in range(WIDTH)))
        assert before == [{"title": "kept"}] * WIDTH

        redis.kill()
        redis.start()  # same port, same append-only file
        await loop_turns(3)

        after = await asyncio.gather(
            *(store.get_record("review", "r1") for _ in range(WIDTH)), return_exceptions=True
        )
        assert after == [{"title": "kept"}] * WIDTH
    finally:
        await store.close()
        redis.kill()
