"""A server-side edit while storage takes no writes is refused before the doc changes:
the command gets the refusal (503), and the room, its doc and its peers are untouched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pycrdt import Doc, Map

from debrief.metrics import Metrics
from debrief.rooms.manager import RoomManager
from debrief.storage import StorageUnavailable
from debrief.storage.sqlite import SQLiteStorage


async def test_an_edit_on_a_full_disk_leaves_the_room_as_it_was(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "db.sqlite3", stall_s=5.0)
    await store.open()
    rooms = RoomManager(store, Metrics())
    try:
        room = await rooms.acquire("r1/room")

        def set_phase(value: str) -> Callable[[Doc], None]:
            def change(doc: Doc) -> None:
                doc.get("meeting", type=Map)["phase"] = value

            return change

        await room.edit(set_phase("notes"))
        store.health.full("test: no space left")
        with pytest.raises(StorageUnavailable):
            await room.edit(set_phase("vote"))
        assert room.failed is None
        assert room.doc.get("meeting", type=Map)["phase"] == "notes"
        assert (await rooms.acquire("r1/room")) is room  # not dropped and reloaded
    finally:
        await rooms.shutdown()
        await store.close()
