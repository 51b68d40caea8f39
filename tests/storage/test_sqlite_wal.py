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


async def _long_log_under_a_reader(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[SQLiteStorage, sqlite3.Connection]:
    """A store whose log is past a tiny bound, and an outside connection (say `debrief
    backup`) holding a snapshot in it."""
    monkeypatch.setattr(sqlite_storage, "WAL_TRUNCATE_FRAMES", 8)
    store = SQLiteStorage(path)
    await store.open()
    outsider = sqlite3.connect(path, isolation_level=None)
    await store.append_update("r/timeline", b"\x00\x00")
    outsider.execute("BEGIN")
    outsider.execute("SELECT count(*) FROM doc_updates").fetchall()  # holds a snapshot
    for i in range(40):
        await store.append_update("r/timeline", bytes([0, 0, i]))
    return store, outsider


async def test_a_long_wal_is_emptied_once_no_reader_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.sqlite3"
    store, outsider = await _long_log_under_a_reader(path, monkeypatch)
    try:
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


async def test_a_reader_in_the_log_is_not_waited_for_until_rounds_in_a_row_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[bool] = []
    checkpoint = sqlite_storage._checkpoint

    def recorded(db: sqlite3.Connection, patient: bool) -> bool:
        waits.append(patient)
        return checkpoint(db, patient)

    monkeypatch.setattr(sqlite_storage, "_checkpoint", recorded)
    path = tmp_path / "db.sqlite3"
    store, outsider = await _long_log_under_a_reader(path, monkeypatch)
    try:
        rounds = sqlite_storage.TRUNCATE_PATIENT_AFTER + 2
        for _ in range(rounds):
            await store.checkpoint()  # each gives up: the reader is still in the log
        assert _wal_bytes(path) > 0
        patient_from = sqlite_storage.TRUNCATE_PATIENT_AFTER
        assert waits == [False] * patient_from + [True] * (rounds - patient_from)
        outsider.execute("COMMIT")

        await store.checkpoint()  # patient still, and now it empties the log
        await store.checkpoint()  # a short log: back to not waiting
        assert _wal_bytes(path) == 0
        assert waits[-2:] == [True, False]
    finally:
        outsider.close()
        await store.close()
