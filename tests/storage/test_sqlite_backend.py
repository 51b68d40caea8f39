"""SQLite-specific behaviour beyond the shared contract."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from debrief.storage.sqlite import SQLiteStorage


async def test_loads_keep_working_between_checkpoints(tmp_path: Path) -> None:
    """Checkpoints and loads share the background connection; neither may leave a
    statement or transaction open for the other (seen once as every load failing)."""
    store = SQLiteStorage(tmp_path / "db.sqlite3")
    await store.open()
    try:
        for i in range(5):
            await store.append_update("r/timeline", bytes([0, 0]) + bytes([i]))
            await store.checkpoint()
            loaded = await store.load_doc("r/timeline")
            assert len(loaded.updates) == i + 1
    finally:
        await store.close()


async def test_survives_many_appends_during_a_load(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "db.sqlite3")
    await store.open()
    try:
        appends = [store.append_update(f"d{i % 7}", b"\x00\x00") for i in range(300)]
        loads = [store.load_doc(f"d{i}") for i in range(7)]
        await asyncio.gather(*appends, *loads, store.checkpoint())
        loaded = [await store.load_doc(f"d{i}") for i in range(7)]
        assert sum(len(doc.updates) for doc in loaded) == 300
    finally:
        await store.close()


async def test_index_counts_of_rows_written_before_the_size_table(tmp_path: Path) -> None:
    """A database whose index rows predate index_sizes (and its triggers) counts them all
    once reopened, then keeps counting through puts and removes."""
    path = tmp_path / "debrief.sqlite3"
    storage = SQLiteStorage(path)
    await storage.open()
    for i in range(30):
        await storage.index_put("team/t/actions/open", f"a{i:02}", float(i), {})
    await storage.close()
    db = sqlite3.connect(path)
    db.executescript(
        "DROP TRIGGER index_sizes_add; DROP TRIGGER index_sizes_remove; DROP TABLE index_sizes;"
    )
    db.close()
    reopened = SQLiteStorage(path)
    await reopened.open()
    try:
        assert await reopened.index_count("team/t/actions/open") == 30
        await reopened.index_put("team/t/actions/open", "a00", 5.0, {"moved": True})  # replace
        await reopened.index_put("team/t/actions/open", "b", 1.0, {})
        await reopened.index_remove("team/t/actions/open", "a01")
        assert await reopened.index_count("team/t/actions/open") == 30
        assert await reopened.index_count("team/t/actions/open", high=4.0) == 4  # b, a02-a04
        await reopened.index_drop("team/t/actions/open")
        assert await reopened.index_count("team/t/actions/open") == 0
    finally:
        await reopened.close()
