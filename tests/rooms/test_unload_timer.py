"""A room's unload timer: armed once while commands borrow the room, due only after the
room has been idle for the whole grace period since its last use."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from debrief.metrics import Metrics
from debrief.rooms import Room
from debrief.rooms.manager import RoomManager
from debrief.storage.sqlite import SQLiteStorage

GRACE_S = 0.2
KEY = "r1/room"


class Watched:
    """A RoomManager whose unloads are noted: when each began, and an event."""

    def __init__(self, storage: SQLiteStorage) -> None:
        self.rooms = RoomManager(storage, Metrics(), unload_grace_s=GRACE_S)
        self.unloaded = asyncio.Event()
        self.at: list[float] = []
        unload = self.rooms._unload

        async def noted(room: Room) -> None:
            self.at.append(asyncio.get_running_loop().time())
            self.unloaded.set()
            await unload(room)

        self.rooms._unload = noted  # type: ignore[method-assign]


@pytest.fixture
async def watched(sqlite_store: SQLiteStorage) -> AsyncIterator[Watched]:
    found = Watched(sqlite_store)
    try:
        yield found
    finally:
        await found.rooms.shutdown()


async def test_borrows_share_one_timer_and_the_unload_follows_the_last(watched: Watched) -> None:
    rooms, unloaded, at = watched.rooms, watched.unloaded, watched.at
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


async def test_a_room_in_use_when_due_is_kept_until_released_again(watched: Watched) -> None:
    rooms, unloaded, at = watched.rooms, watched.unloaded, watched.at
    async with rooms.borrow(KEY) as room:
        pass
    async with rooms.borrow(KEY):
        rooms._unload_due(room)  # due while a command holds it
        assert KEY not in rooms._unload_timers and not unloaded.is_set()
    assert rooms._unload_timers[KEY][0] is room  # its release armed a timer anew
    await asyncio.wait_for(unloaded.wait(), 10)
    assert at[0] >= room.idle_since + GRACE_S


async def test_a_timer_of_a_dropped_room_does_not_hold_up_its_successor(watched: Watched) -> None:
    rooms, unloaded = watched.rooms, watched.unloaded
    async with rooms.borrow(KEY) as old:
        pass
    old.fail("test: storage failed")
    async with rooms.borrow(KEY) as new:  # the failed room is dropped, a new one loads
        assert new is not old
    assert rooms._unload_timers[KEY][0] is new
    unloaded.clear()
    await asyncio.wait_for(unloaded.wait(), 10)
    assert KEY not in rooms.rooms


async def test_a_read_of_a_loaded_room_counts_as_use(watched: Watched) -> None:
    rooms, unloaded, at = watched.rooms, watched.unloaded, watched.at
    assert rooms.loaded(KEY) is None  # not loaded: the caller borrows (and loads) it
    async with rooms.borrow(KEY) as room:
        pass
    armed = rooms._unload_timers[KEY]
    room.idle_since = 0.0  # as if idle since long ago
    assert rooms.loaded(KEY) is room
    assert room.idle_since > 0.0  # the grace period starts again from this read
    assert rooms._unload_timers[KEY] is armed  # and the pending timer is kept
    await asyncio.wait_for(unloaded.wait(), 10)
    assert at[0] >= room.idle_since + GRACE_S
    assert rooms.loaded(KEY) is None  # unloaded: not handed out


async def test_a_failed_room_is_not_read_without_a_borrow(watched: Watched) -> None:
    rooms = watched.rooms
    async with rooms.borrow(KEY) as room:
        pass
    room.fail("test: storage failed")
    assert rooms.loaded(KEY) is None  # borrow drops it and loads it afresh
