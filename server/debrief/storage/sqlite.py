"""The embedded default backend: one SQLite file in WAL mode.

Writes run on the event loop's own thread, each operation one whole transaction. In
WAL mode with synchronous=NORMAL a commit appends to the WAL without an fsync, which
costs tens of microseconds: less than handing the work to a thread and waking the loop
again (measured: lower p99 and CPU with many small reviews, bench/README.md). Appends
from every room are group-committed: whatever was appended during one loop turn is
committed together in the next. Loading a doc (possibly a large snapshot) and the
checkpoints (the step that fsyncs) run on a second connection in a background thread,
so neither stalls a commit and with it a broadcast.

WAL with synchronous=NORMAL survives a killed process (committed transactions are in
the WAL); only an OS crash or power loss can drop the last commits, the usual trade for
a meeting tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from debrief.storage.base import Storage, StorageError, StoredDoc
from debrief.storage.group_commit import GroupCommit
from debrief.tasks import cancel_and_wait

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS doc_updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS doc_updates_by_doc ON doc_updates (doc, seq);
CREATE TABLE IF NOT EXISTS doc_snapshots (
    doc TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    upto INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    review_id TEXT,
    created INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS records_by_review ON records (kind, review_id, created);
CREATE TABLE IF NOT EXISTS votes (
    ballot TEXT NOT NULL,
    voter TEXT NOT NULL,
    target TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (ballot, voter, target)
);
"""

CHECKPOINT_EVERY_S = 1.0


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection, mode: str = "") -> Any:
    """BEGIN ... COMMIT; on any failure, including of the COMMIT, roll back so the
    connection is never left inside a transaction."""
    db.execute(f"BEGIN {mode}")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


class SQLiteStorage(Storage):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None  # used on the event loop's thread
        self._background = ThreadPoolExecutor(1, thread_name_prefix="debrief-sqlite")
        self._reader: sqlite3.Connection | None = None  # loads and checkpoints
        self._appends = GroupCommit(self._append_batch, immediate=True)  # commits inline
        self._checkpointer: asyncio.Task[None] | None = None

    def lock_scope(self) -> str:
        return str(self.path.resolve()) if self._on_disk else str(id(self))

    @property
    def _on_disk(self) -> bool:
        return str(self.path) != ":memory:"

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(db, *args)`` as one step on the writer; errors as StorageError."""
        db = self._db
        if db is None:
            raise StorageError("storage is not open")
        try:
            return fn(db, *args)
        except sqlite3.Error as exc:
            raise StorageError(f"sqlite: {exc}") from exc

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a possibly large read on the background connection."""
        reader = self._reader
        if reader is None:  # in memory: there is only the one database connection
            return await self._run(fn, *args)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._background, fn, reader, *args)
        except sqlite3.Error as exc:
            raise StorageError(f"sqlite: {exc}") from exc

    async def open(self) -> None:
        if self._on_disk:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = _connect(self.path)
        except sqlite3.Error as exc:
            raise StorageError(f"sqlite: cannot open {self.path}: {exc}") from exc
        await self._run(lambda db: db.executescript(SCHEMA))
        if self._on_disk:
            await self._run(lambda db: db.execute("PRAGMA wal_autocheckpoint=0"))
            loop = asyncio.get_running_loop()
            self._reader = await loop.run_in_executor(self._background, _connect, self.path)
            self._checkpointer = asyncio.create_task(self._checkpoint_loop())

    async def close(self) -> None:
        await self._appends.drain()
        await cancel_and_wait(self._checkpointer)
        self._checkpointer = None
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await asyncio.get_running_loop().run_in_executor(self._background, reader.close)
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                await self._run(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
            db, self._db = self._db, None
            db.close()

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY_S)
            with contextlib.suppress(StorageError):
                await self.checkpoint()

    async def checkpoint(self) -> None:
        """Copy the WAL into the database, off the event loop's thread.

        The PRAGMA answers with a row; it must be read to the end, or the statement
        stays open on the connection and the next transaction cannot commit.
        """
        await self._read(lambda db: db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall())

    # --- document logs -------------------------------------------------------------

    async def load_doc(self, key: str) -> StoredDoc:
        def load(db: sqlite3.Connection) -> StoredDoc:
            # One read transaction: a compaction committing in between cannot make the
            # snapshot and the updates after it disagree.
            with _transaction(db):
                row = db.execute(
                    "SELECT data, upto FROM doc_snapshots WHERE doc = ?", (key,)
                ).fetchone()
                snapshot, upto = (bytes(row[0]), int(row[1])) if row else (None, 0)
                rows = db.execute(
                    "SELECT seq, data FROM doc_updates WHERE doc = ? AND seq > ? ORDER BY seq",
                    (key, upto),
                ).fetchall()
            position = str(rows[-1][0]) if rows else str(upto)
            return StoredDoc(snapshot, [bytes(r[1]) for r in rows], position)

        return await self._read(load)

    async def append_update(self, key: str, update: bytes) -> str:
        return await self._appends.append(key, update)

    async def _append_batch(self, batch: list[tuple[str, bytes]]) -> list[str]:
        return [str(seq) for seq in await self._run(_append_batch, batch)]

    async def compact(self, key: str, snapshot: bytes, upto: str) -> bool:
        def compact(db: sqlite3.Connection) -> bool:
            with _transaction(db, "IMMEDIATE"):
                row = db.execute("SELECT upto FROM doc_snapshots WHERE doc = ?", (key,)).fetchone()
                if row is not None and int(row[0]) >= int(upto):
                    return False
                db.execute(
                    "INSERT OR REPLACE INTO doc_snapshots (doc, data, upto) VALUES (?, ?, ?)",
                    (key, snapshot, int(upto)),
                )
                db.execute("DELETE FROM doc_updates WHERE doc = ? AND seq <= ?", (key, int(upto)))
            return True

        return await self._run(compact)

    async def delete_doc(self, key: str) -> None:
        def delete(db: sqlite3.Connection) -> None:
            with _transaction(db):
                db.execute("DELETE FROM doc_updates WHERE doc = ?", (key,))
                db.execute("DELETE FROM doc_snapshots WHERE doc = ?", (key,))

        await self._run(delete)

    # --- records -------------------------------------------------------------------

    async def put_record(
        self, kind: str, record_id: str, data: dict[str, Any], review_id: str | None = None
    ) -> None:
        row = (kind, record_id, review_id, time.time_ns(), json.dumps(data))
        await self._run(
            lambda db: db.execute(
                "INSERT INTO records (kind, id, review_id, created, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data, "
                "review_id = excluded.review_id",
                row,
            )
        )

    async def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        row = await self._run(
            lambda db: db.execute(
                "SELECT data FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            ).fetchone()
        )
        return json.loads(row[0]) if row else None

    async def delete_record(self, kind: str, record_id: str) -> bool:
        cursor = await self._run(
            lambda db: db.execute(
                "DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            )
        )
        return (cursor.rowcount or 0) > 0

    async def list_records(self, kind: str, review_id: str) -> list[dict[str, Any]]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT data FROM records WHERE kind = ? AND review_id = ? ORDER BY created, id",
                (kind, review_id),
            ).fetchall()
        )
        return [json.loads(r[0]) for r in rows]

    # --- ballots -------------------------------------------------------------------

    async def cast_vote(self, ballot: str, voter: str, target: str, limit: int) -> bool:
        def cast(db: sqlite3.Connection) -> bool:
            with _transaction(db, "IMMEDIATE"):
                (used,) = db.execute(
                    "SELECT COALESCE(SUM(count), 0) FROM votes WHERE ballot = ? AND voter = ?",
                    (ballot, voter),
                ).fetchone()
                if int(used) >= limit:
                    return False
                db.execute(
                    "INSERT INTO votes (ballot, voter, target, count) VALUES (?, ?, ?, 1) "
                    "ON CONFLICT (ballot, voter, target) DO UPDATE SET count = count + 1",
                    (ballot, voter, target),
                )
            return True

        return await self._run(cast)

    async def retract_vote(self, ballot: str, voter: str, target: str) -> bool:
        def retract(db: sqlite3.Connection) -> bool:
            with _transaction(db):
                changed = db.execute(
                    "UPDATE votes SET count = count - 1 "
                    "WHERE ballot = ? AND voter = ? AND target = ? AND count > 0",
                    (ballot, voter, target),
                ).rowcount
                db.execute("DELETE FROM votes WHERE count <= 0")
            return (changed or 0) > 0

        return await self._run(retract)

    async def tally(self, ballot: str) -> dict[str, int]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT target, SUM(count) FROM votes WHERE ballot = ? GROUP BY target "
                "HAVING SUM(count) > 0",
                (ballot,),
            ).fetchall()
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def votes_of(self, ballot: str, voter: str) -> dict[str, int]:
        rows = await self._run(
            lambda db: db.execute(
                "SELECT target, count FROM votes WHERE ballot = ? AND voter = ? AND count > 0",
                (ballot, voter),
            ).fetchall()
        )
        return {str(r[0]): int(r[1]) for r in rows}


def _append_batch(db: sqlite3.Connection, batch: list[tuple[str, bytes]]) -> list[int]:
    """Insert a batch in one transaction; return each row's sequence number."""
    with _transaction(db):
        db.executemany("INSERT INTO doc_updates (doc, data) VALUES (?, ?)", batch)
        (last,) = db.execute("SELECT last_insert_rowid()").fetchone()
    # AUTOINCREMENT numbers the rows of one connection's transaction consecutively.
    first = int(last) - len(batch) + 1
    return list(range(first, int(last) + 1))
