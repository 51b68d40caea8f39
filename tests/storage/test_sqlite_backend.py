"""SQLite-specific behaviour beyond the shared contract."""

from __future__ import annotations

import asyncio
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
