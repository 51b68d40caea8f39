"""A server-side edit can store records with its change (a note and the count it moves):
both land in the one append; an edit that leaves the doc as it was stores them alone,
and a change that refuses stores nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pycrdt import Doc, Map

from debrief.metrics import Metrics
from debrief.rooms.manager import RoomManager
from debrief.rooms.room import Room
from debrief.storage.sqlite import SQLiteStorage


@pytest.fixture
async def room(tmp_path: Path) -> AsyncIterator[tuple[Room, SQLiteStorage]]:
    store = SQLiteStorage(tmp_path / "db.sqlite3", stall_s=5.0)
    await store.open()
    rooms = RoomManager(store, Metrics())
    try:
        yield await rooms.acquire("r1/room"), store
    finally:
        await rooms.shutdown()
        await store.close()


def set_count(value: int) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        counts = doc.get("note_counts", type=Map)
        if counts.get("other") != value:
            counts["other"] = value

    return change


async def test_records_ride_with_the_change_and_alone_when_nothing_changed(
    room: tuple[Room, SQLiteStorage],
) -> None:
    live, store = room
    await live.edit(set_count(1), [("note", "n1", {"v": 1}, "r1")])
    assert len((await store.load_doc("r1/room")).updates) == 1
    assert await store.get_record("note", "n1") == {"v": 1}
    await live.edit(set_count(1), [("note", "n2", {"v": 2}, "r1")])
    assert len((await store.load_doc("r1/room")).updates) == 1  # the doc did not change
    assert await store.get_record("note", "n2") == {"v": 2}


async def test_a_change_that_refuses_stores_none_of_its_records(
    room: tuple[Room, SQLiteStorage],
) -> None:
    live, store = room

    def refuse(doc: Doc) -> None:
        raise ValueError("refused before any write")

    with pytest.raises(ValueError):
        await live.edit(refuse, [("note", "n1", {"v": 1}, "r1")])
    assert await store.get_record("note", "n1") is None
    assert live.failed is None
