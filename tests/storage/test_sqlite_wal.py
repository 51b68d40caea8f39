"""The WAL stays bounded: checkpoints start it over even while writes and reads go on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from debrief.storage import sqlite as sqlite_storage
from debrief.storage.sqlite import SQLiteStorage


def _wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


async def test_a_long_wal_is_emptied_once_no_reader_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_storage, "WAL_TRUNCATE_FRAMES", 8)
    path = tmp_path / "db.sqlite3"
    store = SQLiteStorage(path)
    await store.open()
    outsider = sqlite3.connect(path, isolation_level=None)  # e.g. `debrief backup` reading
    try:
        await store.append_update("r/timeline", b"\x00\x00")
        outsider.execute("BEGIN")
        outsider.execute("SELECT count(*) FROM doc_updates").fetchall()  # holds a snapshot
        for i in range(40):
            await store.append_update("r/timeline", bytes([0, 0, i]))
        await store.checkpoint()  # cannot empty the log under the reader: gives up, no error
        await store.append_update("r/timeline", b"\x00\x00\x01")  # writes still go through
        assert _wal_bytes(path) > 0
        outsider.execute("COMMIT")

        await store.checkpoint()

        assert _wal_bytes(path) == 0  # PASSIVE alone would leave the file at its size
        assert len((await store.load_doc("r/timeline")).updates) == 42
    finally:
        outsider.close()
        await store.close()
