"""Fixtures shared by the storage tests."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest

from debrief.storage.redis import RedisStorage

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def two_redis() -> AsyncIterator[tuple[RedisStorage, RedisStorage]]:
    """Two RedisStorage instances on one Redis and one key prefix: two server processes
    as far as Redis can tell (each has its own connections and in-process locks)."""
    prefix = f"debrief-test-{secrets.token_hex(4)}:"
    stores = (RedisStorage(REDIS_URL, prefix=prefix), RedisStorage(REDIS_URL, prefix=prefix))
    for store in stores:
        await store.open()
    try:
        yield stores
    finally:
        await stores[0].drop_everything()
        for store in stores:
            await store.close()
