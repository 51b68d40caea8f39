"""A room's unload timer: armed once while commands borrow the room, due only after the
room has been idle for the whole grace period since its last use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from debrief.metrics import Metrics
from debrief.rooms import Room
from debrief.rooms.manager import RoomManager
from debrief.storage.sqlite import SQLiteStorage

GRACE_S = 0.2
KEY = "r1/room"


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    store = SQLiteStorage(tmp_path / "debrief.sqlite")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def watch_unloads(rooms: RoomManager) -> tuple[asyncio.Event, list[float]]:
    unloaded, at = asyncio.Event(), []
    unload = rooms._unload

    async def noted(room: Room) -> None:
        at.append(asyncio.get_running_loop().time())
        unloaded.set()
        await unload(room)

    rooms._unload = noted  # type: ignore[method-assign]
    return unloaded, at


async def test_borrows_share_one_timer_and_the_unload_follows_the_last(
    storage: SQLiteStorage,
) -> None:
    rooms = RoomManager(storage, Metrics(), unload_grace_s=GRACE_S)
    unloaded, at = watch_unloads(rooms)
    async with rooms.borrow(KEY) as room:
        pass
    first = rooms._unload_timers[KEY]
    for _ in range(50):
        async with rooms.borrow(KEY) as again:
            assert again is room
    assert rooms._unload_timers[KEY] is first  # not re-armed by each borrow

    # Due before the room was idle for the grace period: nothing unloads, it waits on.
    room.idle_since = asyncio.get_running_loop().time()
    rooms._unload_due(room)
    assert rooms.rooms[KEY] is room and not unloaded.is_set()
    assert rooms._unload_timers[KEY] is not first

    await asyncio.wait_for(unloaded.wait(), 10)
    assert at[0] >= room.idle_since + GRACE_S
    assert KEY not in rooms.rooms
    await rooms.shutdown()


async def test_a_room_in_use_when_due_is_kept_until_released_again(
    storage: SQLiteStorage,
) -> None:
    rooms = RoomManager(storage, Metrics(), unload_grace_s=GRACE_S)
    unloaded, at = watch_unloads(rooms)
    async with rooms.borrow(KEY) as room:
        pass
    async with rooms.borrow(KEY):
        rooms._unload_due(room)  # due while a command holds it
        assert KEY not in rooms._unload_timers and not unloaded.is_set()
    assert rooms._unload_timers[KEY][0] is room  # its release armed a timer anew
    await asyncio.wait_for(unloaded.wait(), 10)
    assert at[0] >= room.idle_since + GRACE_S
    await rooms.shutdown()


async def test_a_timer_of_a_dropped_room_does_not_hold_up_its_successor(
    storage: SQLiteStorage,
) -> None:
    rooms = RoomManager(storage, Metrics(), unload_grace_s=GRACE_S)
    unloaded, _ = watch_unloads(rooms)
    async with rooms.borrow(KEY) as old:
        pass
    old.fail("test: storage failed")
    async with rooms.borrow(KEY) as new:  # the failed room is dropped, a new one loads
        assert new is not old
    assert rooms._unload_timers[KEY][0] is new
    unloaded.clear()
    await asyncio.wait_for(unloaded.wait(), 10)
    assert KEY not in rooms.rooms
    await rooms.shutdown()
