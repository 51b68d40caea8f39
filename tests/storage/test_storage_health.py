"""The storage health states (storage/health.py) on the SQLite backend, with real causes:
a write held up by another connection's lock (stalled) and a page limit (SQLITE_FULL)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from debrief.storage import StorageStalled, StorageUnavailable
from debrief.storage.sqlite import SQLiteStorage

STALL_S = 0.3


async def recovered(store: SQLiteStorage) -> asyncio.Event:
    back = asyncio.Event()
    store.health.when_ok(back.set)
    return back


async def test_a_write_held_up_past_the_bound_stalls_then_recovers(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "db.sqlite3", stall_s=STALL_S)
    await store.open()
    blocker = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    try:
        await store.append_update("r/timeline", b"\x00\x00")
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock: ours waits
        stuck = asyncio.create_task(store.append_update("r/timeline", b"\x00\x01"))
        with pytest.raises(StorageStalled):
            await stuck
        assert store.health.state == "stalled"
        assert "stalled" in store.health.reason
        with pytest.raises(StorageUnavailable) as refused:  # at once, not queued behind it
            await store.put_record("review", "r1", {"id": "r1"})
        assert refused.value.state == "stalled"
        # reads go on while the writer is stuck
        assert len((await store.load_doc("r/timeline")).updates) == 1
        assert await store.get_record("review", "r1") is None
        back = await recovered(store)
        blocker.execute("COMMIT")
        await asyncio.wait_for(back.wait(), 10)
        assert store.health.ok
        # the lagging write did land (a CRDT log takes it either way)
        assert len((await store.load_doc("r/timeline")).updates) == 2
        await store.put_record("review", "r1", {"id": "r1"})
        assert await store.get_record("review", "r1") == {"id": "r1"}
    finally:
        blocker.close()
        await store.close()


async def test_a_full_database_refuses_writes_until_there_is_room(tmp_path: Path) -> None:
    store = SQLiteStorage(tmp_path / "db.sqlite3", stall_s=5.0)
    await store.open()
    try:
        await store._write(lambda db: db.execute("PRAGMA max_page_count = 1").fetchall())
        with pytest.raises(StorageUnavailable) as full:
            for i in range(200):
                await store.append_update("r/timeline", bytes(2000) + bytes([i % 256]))
        assert full.value.state == "full"
        assert store.health.state == "full"
        with pytest.raises(StorageUnavailable):
            await store.put_record("review", "r1", {"id": "r1"})
        back = await recovered(store)
        # room again: the probe's small write goes through and storage is back to ok
        writer = store._writer
        assert writer is not None
        await writer.run(lambda db: db.execute("PRAGMA max_page_count = 1000000").fetchall())
        await asyncio.wait_for(back.wait(), 10)
        await store.put_record("review", "r1", {"id": "r1"})
        assert await store.get_record("review", "r1") == {"id": "r1"}
    finally:
        await store.close()


async def test_in_memory_storage_still_works(tmp_path: Path) -> None:
    store = SQLiteStorage(":memory:")
    await store.open()
    try:
        await store.append_update("r/timeline", b"\x00\x00")
        await store.put_record("review", "r1", {"id": "r1"}, "r1")
        assert await store.list_records("review", "r1") == [{"id": "r1"}]
        assert len((await store.load_doc("r/timeline")).updates) == 1
        assert store.health.ok
    finally:
        await store.close()
