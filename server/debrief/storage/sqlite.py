"""The embedded default backend: one SQLite file in WAL mode.

Appends from every room are group-committed: whoever appends while a commit is in
flight joins the next one, so a burst across many docs costs one fsync-free WAL
commit per loop turn instead of one per update. WAL with synchronous=NORMAL survives a
killed process (committed transactions are in the WAL); only an OS crash or power
loss can drop the last commits, which is the usual trade for a meeting tool.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiosqlite

from debrief.storage.base import Storage, StorageError, StoredDoc

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


def _monotonic_id() -> int:
    """Creation order that survives restarts: nanoseconds since the epoch."""
    return time.time_ns()


class SQLiteStorage(Storage):
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._queue: list[tuple[str, bytes, asyncio.Future[str]]] = []
        self._committer: asyncio.Task[None] | None = None
        # One connection: statements of concurrent tasks must not land inside
        # each other's transactions.
        self._lock = asyncio.Lock()

    def lock_scope(self) -> str:
        return str(self.path.resolve()) if str(self.path) != ":memory:" else str(id(self))

    async def open(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path, isolation_level=None)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.executescript(SCHEMA)

    async def close(self) -> None:
        if self._committer is not None:
            await asyncio.shield(self._committer)
        if self._db is not None:
            await self._db.close()
            self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("storage is not open")
        return self._db

    # --- document logs -------------------------------------------------------------

    async def load_doc(self, key: str) -> StoredDoc:
        async with self._lock:
            return await self._load_doc(key)

    async def _load_doc(self, key: str) -> StoredDoc:
        try:
            async with self.db.execute(
                "SELECT data, upto FROM doc_snapshots WHERE doc = ?", (key,)
            ) as cur:
                row = await cur.fetchone()
            snapshot, upto = (bytes(row[0]), int(row[1])) if row else (None, 0)
            async with self.db.execute(
                "SELECT seq, data FROM doc_updates WHERE doc = ? AND seq > ? ORDER BY seq",
                (key, upto),
            ) as cur:
                rows = list(await cur.fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"cannot load {key}: {exc}") from exc
        position = str(rows[-1][0]) if rows else str(upto)
        return StoredDoc(snapshot, [bytes(r[1]) for r in rows], position)

    async def append_update(self, key: str, update: bytes) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queue.append((key, update, future))
        if self._committer is None or self._committer.done():
            self._committer = asyncio.create_task(self._commit_loop())
        return await future

    async def _commit_loop(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                seqs = await self._commit(batch)
            except Exception as exc:
                error = StorageError(f"append failed: {exc}")
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, _, future), seq in zip(batch, seqs, strict=True):
                if not future.done():
                    future.set_result(str(seq))

    async def _commit(self, batch: list[tuple[str, bytes, asyncio.Future[str]]]) -> list[int]:
        async with self._lock:
            return await self._commit_locked(batch)

    async def _commit_locked(
        self, batch: list[tuple[str, bytes, asyncio.Future[str]]]
    ) -> list[int]:
        db = self.db
        seqs = []
        await db.execute("BEGIN")
        try:
            for key, update, _ in batch:
                cur = await db.execute(
                    "INSERT INTO doc_updates (doc, data) VALUES (?, ?)", (key, update)
                )
                seqs.append(int(cur.lastrowid or 0))
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        return seqs

    async def compact(self, key: str, snapshot: bytes, upto: str) -> bool:
        async with self._lock:
            return await self._compact(key, snapshot, int(upto))

    async def _compact(self, key: str, snapshot: bytes, upto_seq: int) -> bool:
        db = self.db
        await db.execute("BEGIN IMMEDIATE")
        try:
            async with db.execute("SELECT upto FROM doc_snapshots WHERE doc = ?", (key,)) as cur:
                row = await cur.fetchone()
            if row is not None and int(row[0]) >= upto_seq:
                await db.execute("ROLLBACK")
                return False
            await db.execute(
                "INSERT OR REPLACE INTO doc_snapshots (doc, data, upto) VALUES (?, ?, ?)",
                (key, snapshot, upto_seq),
            )
            await db.execute("DELETE FROM doc_updates WHERE doc = ? AND seq <= ?", (key, upto_seq))
            await db.execute("COMMIT")
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        return True

    async def delete_doc(self, key: str) -> None:
        async with self._lock:
            await self.db.execute("DELETE FROM doc_updates WHERE doc = ?", (key,))
            await self.db.execute("DELETE FROM doc_snapshots WHERE doc = ?", (key,))

    # --- records -------------------------------------------------------------------

    async def put_record(
        self, kind: str, record_id: str, data: dict[str, Any], review_id: str | None = None
    ) -> None:
        async with self._lock:
            await self.db.execute(
                "INSERT INTO records (kind, id, review_id, created, data) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data, "
                "review_id = excluded.review_id",
                (kind, record_id, review_id, _monotonic_id(), json.dumps(data)),
            )

    async def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        async with (
            self._lock,
            self.db.execute(
                "SELECT data FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            ) as cur,
        ):
            row = await cur.fetchone()
        return json.loads(row[0]) if row else None

    async def delete_record(self, kind: str, record_id: str) -> bool:
        async with self._lock:
            cur = await self.db.execute(
                "DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            )
        return (cur.rowcount or 0) > 0

    async def list_records(self, kind: str, review_id: str) -> list[dict[str, Any]]:
        async with (
            self._lock,
            self.db.execute(
                "SELECT data FROM records WHERE kind = ? AND review_id = ? ORDER BY created, id",
                (kind, review_id),
            ) as cur,
        ):
            rows = await cur.fetchall()
        return [json.loads(r[0]) for r in rows]

    # --- ballots -------------------------------------------------------------------

    async def cast_vote(self, ballot: str, voter: str, target: str, limit: int) -> bool:
        async with self._lock:
            db = self.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                async with db.execute(
                    "SELECT COALESCE(SUM(count), 0) FROM votes WHERE ballot = ? AND voter = ?",
                    (ballot, voter),
                ) as cur:
                    row = await cur.fetchone()
                if row is not None and int(row[0]) >= limit:
                    await db.execute("ROLLBACK")
                    return False
                await db.execute(
                    "INSERT INTO votes (ballot, voter, target, count) VALUES (?, ?, ?, 1) "
                    "ON CONFLICT (ballot, voter, target) DO UPDATE SET count = count + 1",
                    (ballot, voter, target),
                )
                await db.execute("COMMIT")
            except BaseException:
                await db.execute("ROLLBACK")
                raise
            return True

    async def retract_vote(self, ballot: str, voter: str, target: str) -> bool:
        async with self._lock:
            db = self.db
            cur = await db.execute(
                "UPDATE votes SET count = count - 1 "
                "WHERE ballot = ? AND voter = ? AND target = ? AND count > 0",
                (ballot, voter, target),
            )
            changed = (cur.rowcount or 0) > 0
            await db.execute("DELETE FROM votes WHERE count <= 0")
            return changed

    async def tally(self, ballot: str) -> dict[str, int]:
        async with (
            self._lock,
            self.db.execute(
                "SELECT target, SUM(count) FROM votes WHERE ballot = ? GROUP BY target "
                "HAVING SUM(count) > 0",
                (ballot,),
            ) as cur,
        ):
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}

    async def votes_of(self, ballot: str, voter: str) -> dict[str, int]:
        async with (
            self._lock,
            self.db.execute(
                "SELECT target, count FROM votes WHERE ballot = ? AND voter = ? AND count > 0",
                (ballot, voter),
            ) as cur,
        ):
            return {str(r[0]): int(r[1]) for r in await cur.fetchall()}
