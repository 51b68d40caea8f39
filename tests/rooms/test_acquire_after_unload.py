"""Acquiring a room whose unload has just finished (its task done, the done-callback
that forgets it still queued) must load the room again, not spin: awaiting a finished
task does not yield to the loop, so the callback would never run."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from debrief.metrics import Metrics
from debrief.rooms.manager import RoomManager
from debrief.storage.sqlite import SQLiteStorage


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    store = SQLiteStorage(tmp_path / "rooms.sqlite3")
    await store.open()
    yield store
    await store.close()


async def test_acquire_right_after_an_unload_finished(storage: SQLiteStorage) -> None:
    rooms = RoomManager(storage, Metrics())
    first = await rooms.acquire("r1/room")
    await rooms._unload(first)

    async def finished() -> None:
        return None

    done = asyncio.get_running_loop().create_task(finished())
    await done
    rooms._unloading["r1/room"] = done  # as _start_unload leaves it, callback not yet run
    again = await asyncio.wait_for(rooms.acquire("r1/room"), 10)
    assert again is not first
    await rooms.shutdown()
