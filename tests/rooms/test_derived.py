"""`Room.derived`: a value computed from the doc is kept until the doc changes, whoever
changes it (a server edit, a client's update, another process's), and a note's question
"is my section revealed?" follows a reveal at once."""

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
async def room(tmp_path: Path) -> AsyncIterator[Room]:
    store = SQLiteStorage(tmp_path / "db.sqlite3", stall_s=5.0)
    await store.open()
    rooms = RoomManager(store, Metrics())
    try:
        yield await rooms.acquire("r1/room")
    finally:
        await rooms.shutdown()
        await store.close()


def counted(calls: list[int]) -> Callable[[Doc], int]:
    def compute(doc: Doc) -> int:
        calls.append(1)
        return int(doc.get("note_counts", type=Map).get("other") or 0)

    return compute


def set_count(value: int) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        doc.get("note_counts", type=Map)["other"] = value

    return change


async def test_kept_until_a_server_edit_changes_the_doc(room: Room) -> None:
    calls: list[int] = []
    assert room.derived("count", counted(calls)) == 0
    assert room.derived("count", counted(calls)) == 0
    assert len(calls) == 1
    await room.edit(set_count(3))
    assert room.derived("count", counted(calls)) == 3
    assert len(calls) == 2


async def test_dropped_when_an_update_from_elsewhere_arrives(room: Room) -> None:
    calls: list[int] = []
    assert room.derived("count", counted(calls)) == 0
    other: Doc = Doc()
    other.get("note_counts", type=Map)["other"] = 7
    room.apply_remote(other.get_update())  # as the relay hands over another process's
    assert room.derived("count", counted(calls)) == 7
    assert len(calls) == 2


async def test_a_change_that_fails_half_way_drops_it_too(room: Room) -> None:
    calls: list[int] = []
    room.derived("count", counted(calls))

    def write_then_refuse(doc: Doc) -> None:
        doc.get("note_counts", type=Map)["other"] = 5
        raise ValueError("refused after a write")

    with pytest.raises(ValueError):
        await room.edit(write_then_refuse)
    # whatever the doc holds now, the value is computed from it, not remembered
    assert room.derived("count", counted(calls)) == room.doc.get("note_counts", type=Map).get(
        "other", 0
    )
    assert len(calls) == 2
