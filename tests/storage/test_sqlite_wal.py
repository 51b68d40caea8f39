"""The WAL stays bounded: checkpoints start it over even while writes and reads go on."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from debrief.storage import sqlite as sqlite_storage
from debrief.storage.sqlite import SQLiteStorage

BOUND = 8  # frames: a tiny WAL_RESTART_FRAMES
FILE_LIMIT = 8 * 4096  # bytes: a tiny WAL_FILE_LIMIT


def _wal_bytes(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def _log_frames(path: Path) -> int:
    """The log's length in frames, as another connection sees it (through a PASSIVE
    copy, which never starts the log over itself)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        [(_busy, frames, _copied)] = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return int(frames)
    finally:
        db.close()


@contextlib.asynccontextmanager
async def _long_log_under_a_reader(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[SQLiteStorage, sqlite3.Connection]]:
    """A store whose log is past a tiny bound, and an outside connection (say `debrief
    backup`) holding a snapshot in it; both closed on the way out."""
    monkeypatch.setattr(sqlite_storage, "WAL_RESTART_FRAMES", BOUND)
    monkeypatch.setattr(sqlite_storage, "WAL_FILE_LIMIT", FILE_LIMIT)
    store = SQLiteStorage(path)
    await store.open()
    outsider = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        await store.append_update("r/timeline", b"\x00\x00")
        outsider.execute("BEGIN")
        outsider.execute("SELECT count(*) FROM doc_updates").fetchall()  # holds a snapshot
        for i in range(40):
            await store.append_update("r/timeline", bytes([0, 0, i]))
        yield store, outsider
    finally:
        outsider.close()
        await store.close()


async def test_a_long_wal_starts_over_once_no_reader_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "db.sqlite3"
    async with _long_log_under_a_reader(path, monkeypatch) as (store, outsider):
        await store.checkpoint()  # cannot start the log over under the reader: no error
        await store.append_update("r/timeline", b"\x00\x00\x01")  # writes still go through
        grown = _log_frames(path)
        assert grown > 40
        assert _wal_bytes(path) > FILE_LIMIT  # the reader let the file grow past its limit
        outsider.execute("COMMIT")

        await store.checkpoint()
        await store.append_update("r/timeline", b"\x00\x00\x02")

        assert _log_frames(path) < BOUND  # the write went to the log's beginning
        assert _wal_bytes(path) <= FILE_LIMIT  # and that commit cut the file back
        assert len((await store.load_doc("r/timeline")).updates) == 43


async def test_a_long_wal_starts_over_when_its_copy_stopped_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy (PASSIVE) takes frames only as far as the oldest reader, and under steady
    writes commits land while it runs: either way it ends short of the log's end, and a
    copy alone never lets the log start over. Here a reader leaves just after the copy."""
    path = tmp_path / "db.sqlite3"
    copy = sqlite_storage._copy_log
    async with _long_log_under_a_reader(path, monkeypatch) as (store, outsider):

        def copy_then_the_reader_leaves(db: sqlite3.Connection) -> int:
            frames = copy(db)
            outsider.execute("COMMIT")
            return frames

        monkeypatch.setattr(sqlite_storage, "_copy_log", copy_then_the_reader_leaves)
        await store.checkpoint()
        await store.append_update("r/timeline", b"\x00\x00\x01")

        assert _log_frames(path) < BOUND
        assert len((await store.load_doc("r/timeline")).updates) == 42


async def test_a_reader_in_the_log_is_waited_for_only_after_rounds_in_a_row_missed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting for readers holds writes back, so a round waits only after
    RESTART_PATIENT_AFTER rounds in a row missed, and a wait in vain (a long reader)
    starts that count again."""
    waits: list[bool] = []
    checkpoint = sqlite_storage._checkpoint

    def recorded(db: sqlite3.Connection, patient: bool) -> bool:
        waits.append(patient)
        return checkpoint(db, patient)

    monkeypatch.setattr(sqlite_storage, "_checkpoint", recorded)
    path = tmp_path / "db.sqlite3"
    patient_after = sqlite_storage.RESTART_PATIENT_AFTER
    async with _long_log_under_a_reader(path, monkeypatch) as (store, outsider):
        for _ in range(2 * (patient_after + 1)):
            await store.checkpoint()  # each gives up: the reader is still in the log
        assert _log_frames(path) > BOUND
        assert waits == ([False] * patient_after + [True]) * 2
        for _ in range(patient_after):
            await store.checkpoint()
        outsider.execute("COMMIT")

        await store.checkpoint()  # patient, and now the log can start over
        await store.append_update("r/timeline", b"\x00\x00\x01")
        await store.checkpoint()  # a short log: back to not waiting
        assert _log_frames(path) < BOUND
        assert waits[-2:] == [True, False]
