"""The embedded default backend: one SQLite file in WAL mode.

Writes run on a thread of their own that owns the write connection, each operation one
whole transaction; the event loop awaits them. They used to run inline on the loop's
thread (a WAL commit with synchronous=NORMAL costs tens of microseconds, less than a
thread hand-off), but a write blocks as long as the disk does: with the data disk
frozen for 20 s, /healthz, every POST and every other review waited 10-20 s, and a full
disk made writes fail and succeed by turns. Off the loop, a stuck write holds up only
the writes behind it: past a bound (DEBRIEF_STORAGE_STALL_S) storage is marked
stalled, writes are refused at once (health.py) and reads go on. The hand-off has a
price (bench/storage_writer.py, p50 on 2 shared cores): one append alone takes 80-90 us
instead of 31, a record read 40-55 us instead of 7; with 50 writers at once group
commit gets 70-77k appends/s instead of 24-26k, at a third of the CPU per append,
because the loop keeps queueing while a transaction commits.

Appends from every room are group-committed: the first goes at once, those made while
it is in flight ride together in the next transaction, in order. Reads use a second
connection on a thread of their own, opened up front: on a frozen disk an open
connection still reads, a new one cannot be opened. Checkpoints (the step that fsyncs,
so the first to block) run on a third. An in-memory database is one connection, so
there reads and writes share the writer's thread.

WAL with synchronous=NORMAL survives a killed process (committed transactions are in
the WAL); only an OS crash or power loss can drop the last commits, the usual trade for
a meeting tool.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from pathlib import Path
from typing import Any, TypeVar, cast

from debrief import fast_json
from debrief.storage.base import (
    IndexEntry,
    RecordWrite,
    Storage,
    StorageError,
    StorageUnavailable,
    StoredDoc,
    VoteOutcome,
)
from debrief.storage.group_commit import GroupCommit
from debrief.storage.health import DEFAULT_STALL_S
from debrief.storage.record_cache import RecordCache, cache_for
from debrief.storage.sqlite_thread import ConnectionThread, settled
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
CREATE TABLE IF NOT EXISTS health (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS index_entries (
    idx TEXT NOT NULL,
    member TEXT NOT NULL,
    score REAL NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (idx, member)
);
CREATE INDEX IF NOT EXISTS index_entries_by_score ON index_entries (idx, score, member);
-- Members per index, kept by triggers in the same transaction as the change: counting a
-- whole index (team pages count tens of thousands of actions) is then one row, not a
-- walk along the index.
CREATE TABLE IF NOT EXISTS index_sizes (
    idx TEXT PRIMARY KEY,
    n INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS index_sizes_add AFTER INSERT ON index_entries BEGIN
    INSERT INTO index_sizes (idx, n) VALUES (NEW.idx, 1)
    ON CONFLICT (idx) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS index_sizes_remove AFTER DELETE ON index_entries BEGIN
    UPDATE index_sizes SET n = n - 1 WHERE idx = OLD.idx;
END;
"""
# Every statement above is IF NOT EXISTS: a data directory of an older release opens
# and gains the newer tables (the record-level migrations live in teams/migrate.py).

# A row of the records table as written: (kind, id, review_id, created, data).
RecordRow = tuple[str, str, str | None, int, str]
Append = tuple[str, bytes, list[RecordRow]]  # doc key, update, records written with it
# a cast (else a retraction), ballot, voter, target, limit
VoteChange = tuple[bool, str, str, str, int]
# Rows per statement when writes are batched (5 variables a row; SQLite allows 32,766).
ROWS_PER_STATEMENT = 500


@functools.lru_cache(maxsize=64)
def _put_records_sql(rows: int) -> str:
    """One upsert of ``rows`` records: a statement is atomic, and one step of SQLite
    however many rows (each step hands Python's GIL back and forth between threads)."""
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return (
        f"INSERT INTO records (kind, id, review_id, created, data) VALUES {values} "
        "ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data, review_id = excluded.review_id"
    )


@functools.lru_cache(maxsize=64)
def _append_sql(rows: int) -> str:
    return "INSERT INTO doc_updates (doc, data) VALUES " + ", ".join(["(?, ?)"] * rows)


# Rows read per step by whole-store passes (all_records).
PAGE_ROWS = 500

BUSY_TIMEOUT_MS = 5000
CHECKPOINT_EVERY_S = 1.0
# A PASSIVE checkpoint copies the WAL into the database but never starts the log over:
# SQLite does that only when a write begins with every frame copied and no reader in the
# log, which steady writes and reads never leave room for. The WAL then grows without end
# (hundreds of MB in the soak), and with it the WAL index every connection maps. Past
# this many frames (16 MiB of 4 KiB pages) a RESTART checkpoint holds writes back while it
# copies the few frames written since the PASSIVE before it and syncs; the next write then
# starts the log over at its beginning, in the file as it is. It used to be a TRUNCATE:
# cutting the file to nothing cost 26-150 ms of held-back writes on a slow disk (freeing
# the file's blocks), and each write after it grew the file again. A RESTART holds them
# 0.1-10 ms there (bench/README.md, eleventh pass).
# While it waits for a reader or writer it holds writes back too, and SQLite's busy
# handler waits in sleeps of 1, 2, 5, 10 ... ms. So a round first tries without waiting;
# only after RESTART_PATIENT_AFTER rounds in a row found someone in the way does it wait,
# at most WAL_RESTART_WAIT_MS, so the bound holds under any traffic. A wait that finds
# the reader still there starts the count again: a long reader (a backup, one read for
# its whole copy) then holds writes back 50 ms once in 6 rounds, not every second.
WAL_RESTART_FRAMES = 4096
WAL_RESTART_WAIT_MS = 50
RESTART_PATIENT_AFTER = 5
# A log that a long reader let grow past this is cut back to it when it starts over (by
# the first commit after, once). Twice the bound: at a meeting's write rates a round adds
# a few MiB past the bound, so the file stays below this and no commit pays for freeing
# blocks; a burst of thousands of writes a second can pass it, and is cut back then.
WAL_FILE_LIMIT = 2 * WAL_RESTART_FRAMES * 4096
# Free space a full disk must have again before writes are taken (else: flapping).
FREE_TO_RECOVER = 4 * 1024 * 1024
CLOSE_WAIT_S = 2.0  # a connection stuck on a frozen disk is left to the daemon thread


def lock_path(path: Path) -> Path:
    """The file a server holds a shared lock on while it has ``path`` open: `debrief
    restore` takes it exclusively, so it never writes under a running server."""
    return path.with_name(path.name + ".lock")


def hold_lock(path: Path, *, exclusive: bool) -> int | None:
    """Lock ``lock_path(path)`` without waiting; the open descriptor (close it to let go),
    or None when someone holds it the other way."""
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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
            with contextlib.suppress(sqlite3.Error):  # e.g. the disk is full
                db.execute("ROLLBACK")
        raise


class SQLiteStorage(Storage):
    def __init__(
        self,
        path: str | Path,
        *,
        stall_s: float = DEFAULT_STALL_S,
        cached_kinds: Collection[str] | None = (),
    ) -> None:
        """``cached_kinds``: the kinds of record read from memory once read or written
        (record_cache.py; None: every kind). Only for kinds no other process writes."""
        self.path = Path(path)
        self._cached_kinds = None if cached_kinds is None else frozenset(cached_kinds)
        self.health.stall_s = stall_s
        self._writer: ConnectionThread | None = None
        self._reader: ConnectionThread | None = None  # the writer's, in memory
        self._checkpoints: ConnectionThread | None = None  # none in memory
        self._appends = GroupCommit(self._append_batch, immediate=True)
        # Record writes of concurrent commands share one statement and one commit.
        self._record_writes = GroupCommit(self._put_rows_batch, immediate=True)
        # Votes of concurrent commands (of different reviews: a review's own are one at a
        # time, under its lock) share one transaction, each in a savepoint of its own.
        self._votes = GroupCommit(self._vote_batch, immediate=True)
        # This process makes every write (shared is False): hot records answer from memory
        # (open takes the cache of the file, shared with its other backends in this process)
        self._cache = RecordCache()
        self._checkpointer: asyncio.Task[None] | None = None
        self._restart_misses = 0  # checkpoint rounds in a row that left a long log
        self._held: int | None = None  # the shared lock on lock_path(path)
        self._scope: str | None = None

    def lock_scope(self) -> str:
        if self._scope is None:  # resolved once: every command's lock asks for it
            self._scope = str(self.path.resolve()) if self._on_disk else str(id(self))
        return self._scope

    @property
    def _on_disk(self) -> bool:
        return str(self.path) != ":memory:"

    async def _write(
        self, fn: Callable[..., T], *args: Any, then: Callable[[bool], None] | None = None
    ) -> T:
        """Run ``fn(db, *args)`` as one step on the writer thread.

        Refused at once while storage is not ok; a caller whose write lags past the
        bound gets StorageStalled (the write may still complete later). ``then(done)``
        is called once the write has ended, whoever still waits for it: ``done`` is
        whether it was made (the record cache follows writes so)."""
        writer = self._writer
        if writer is None:
            raise StorageError("storage is not open")
        self.health.check()
        future = writer.run(fn, *args, after=_mark_read)
        future.add_done_callback(_retrieve)
        if then is not None:
            future.add_done_callback(lambda f: then(not f.cancelled() and f.exception() is None))
        try:
            return await settled(future, self.health.stall_s)
        except TimeoutError:
            stalled = self.health.lagging()  # drops the writes queued behind this one
            if future.done() and not future.cancelled():
                if future.exception() is None:
                    return future.result()
                raise self._error(future.exception()) from None  # dropped: never ran
            raise stalled from None
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a read on the reader connection, which a stuck writer does not hold up."""
        reader = self._reader
        if reader is None:
            raise StorageError("storage is not open")
        future = reader.run(fn, *args)
        future.add_done_callback(_retrieve)
        try:
            # bounded too: a 503 rather than a request that hangs with the disk
            return await settled(future, self.health.stall_s)
        except TimeoutError:
            reason = f"storage is stalled: a read has not finished for {self.health.stall_s} s"
            raise StorageUnavailable(reason, "stalled") from None
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: BaseException | None) -> StorageError:
        if isinstance(exc, StorageError):
            return exc
        if _is_full(exc):
            self.health.full(f"sqlite: {exc}")
            return StorageUnavailable(self.health.reason, "full")
        return StorageError(f"sqlite: {exc}")

    async def open(self) -> None:
        if self._on_disk:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._held = hold_lock(self.path, exclusive=False)
            except OSError as exc:
                raise StorageError(f"sqlite: cannot lock {lock_path(self.path)}: {exc}") from exc
            if self._held is None:
                raise StorageError(f"sqlite: {self.path} is being restored (debrief restore)")
        self._writer = writer = ConnectionThread("debrief-sqlite-writer")
        try:
            await writer.open(lambda: _connect(self.path))
            await writer.run(lambda db: db.executescript(SCHEMA))
            await writer.run(_count_indexes_once)
            self._reader = writer
            if self._on_disk:
                await writer.run(_set_up_writer_wal)
                self._reader = ConnectionThread("debrief-sqlite-reader")
                await self._reader.open(lambda: _connect(self.path))
                self._checkpoints = ConnectionThread("debrief-sqlite-checkpoint")
                await self._checkpoints.open(lambda: _connect(self.path))
        except sqlite3.Error as exc:
            self._release_lock()
            raise StorageError(f"sqlite: cannot open {self.path}: {exc}") from exc
        self.health.watch(lambda: writer.busy_since, self._probe)
        self.health.on_trouble(self._drop_queued_writes)
        self._cache = cache_for(self.lock_scope())
        self._cache.clear()  # what another process wrote while this file was closed
        self.health.on_trouble(self._cache.clear)
        if self._on_disk:
            self._checkpointer = asyncio.create_task(self._checkpoint_loop())

    def _drop_queued_writes(self) -> None:
        if self._writer is not None:
            self._writer.drop_waiting(StorageUnavailable(self.health.reason, self.health.state))

    async def _probe(self) -> bool:
        """Whether writes go through again: the stuck one finished, a small write commits
        and (after a full disk) there is room again, so the state does not flap."""
        writer = self._writer
        if writer is None or writer.busy:
            return False
        need = FREE_TO_RECOVER if self.health.state == "full" and self._on_disk else 0
        probe = writer.run(_probe_write, self.path.parent, need)
        probe.add_done_callback(_retrieve)
        try:
            return await settled(probe, self.health.stall_s)
        except (TimeoutError, sqlite3.Error, OSError):
            return False

    async def close(self) -> None:
        await self._appends.drain()
        await self._record_writes.drain()
        await self._votes.drain()
        await cancel_and_wait(self._checkpointer)
        self._checkpointer = None
        await self.health.close()
        for thread in (self._checkpoints, self._reader):
            if thread is not None and thread is not self._writer:
                await thread.close(CLOSE_WAIT_S)
        self._checkpoints = self._reader = None
        if self._writer is not None:
            if self.health.ok:
                with contextlib.suppress(StorageError):
                    await self._write(lambda db: db.execute("PRAGMA wal_checkpoint(TRUNCATE)"))
            writer, self._writer = self._writer, None
            await writer.close(CLOSE_WAIT_S)
        self._release_lock()

    def _release_lock(self) -> None:
        if self._held is not None:
            held, self._held = self._held, None
            os.close(held)

    async def _checkpoint_loop(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_EVERY_S)
            with contextlib.suppress(StorageError):
                await self.checkpoint()

    async def checkpoint(self) -> None:
        """Copy the WAL into the database, on a thread and connection of its own.

        The PRAGMA answers with a row; it must be read to the end, or the statement
        stays open on the connection and the next transaction cannot commit.
        """
        thread = self._checkpoints
        if thread is None:
            return
        patient = self._restart_misses >= RESTART_PATIENT_AFTER
        try:
            restarted = await thread.run(_checkpoint, patient)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc
        self._restart_misses = 0 if restarted or patient else self._restart_misses + 1

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

    async def append_update(
        self, key: str, update: bytes, records: Sequence[RecordWrite] = ()
    ) -> str:
        self.health.check()  # not queued behind a commit that hangs
        return await self._appends.write((key, update, self._rows(records)))

    async def _append_batch(self, batch: list[Append]) -> list[str]:
        rows = _rows_of(batch)
        then = self._rows_written(rows) if rows else None
        return [str(seq) for seq in await self._write(_append_batch, batch, then=then)]

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

        return await self._write(compact)

    async def delete_doc(self, key: str) -> None:
        def delete(db: sqlite3.Connection) -> None:
            with _transaction(db):
                db.execute("DELETE FROM doc_updates WHERE doc = ?", (key,))
                db.execute("DELETE FROM doc_snapshots WHERE doc = ?", (key,))

        await self._write(delete)

    # --- records -------------------------------------------------------------------

    async def put_record(
        self, kind: str, record_id: str, data: dict[str, Any], review_id: str | None = None
    ) -> None:
        row: RecordRow = (kind, record_id, review_id, time.time_ns(), fast_json.dumps(data))
        self.health.check()  # not queued behind a commit that hangs
        await self._record_writes.write([row])

    async def put_records(self, records: list[RecordWrite]) -> None:
        if not records:
            return
        rows = self._rows(records)
        self.health.check()
        await self._record_writes.write(rows)

    @staticmethod
    def _rows(records: Sequence[RecordWrite]) -> list[RecordRow]:
        now = time.time_ns()
        return [
            (kind, record_id, review_id, now + i, fast_json.dumps(data))
            for i, (kind, record_id, data, review_id) in enumerate(records)
        ]

    async def _put_rows_batch(self, batch: list[list[RecordRow]]) -> list[StorageError | None]:
        """The rows of every caller in the batch, in one step: all of them or none. When
        that fails, each caller's rows are written alone, so that a bad one fails alone
        (not when storage as a whole is unavailable: that is everyone's answer)."""
        failed = await self._try_write_rows([row for caller in batch for row in caller])
        if failed is None:
            return [None] * len(batch)
        if len(batch) == 1:
            raise failed
        return [await self._try_write_rows(caller) for caller in batch]

    async def _try_write_rows(self, rows: list[RecordRow]) -> StorageError | None:
        """Write ``rows`` in one step; the error that refused them, if any (raised when
        storage as a whole is unavailable)."""
        try:
            await self._write(_write_rows, rows, then=self._rows_written(rows))
        except StorageUnavailable:
            raise
        except StorageError as exc:
            return exc
        return None

    def _rows_written(self, rows: list[RecordRow]) -> Callable[[bool], None]:
        """What the cache learns once a write of ``rows`` has ended (even if its caller
        gave up waiting): their texts, or that anything may have changed."""

        def follow(done: bool) -> None:
            if not done:
                self._cache.clear()
                return
            for kind, record_id, _, _, text in rows:
                self._cache.wrote((kind, record_id), text)

        return follow

    async def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        (found,) = await self.get_records([(kind, record_id)])
        return found

    async def get_records(self, keys: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        cache, kinds = self._cache, self._cached_kinds
        cached = [kinds is None or kind in kinds for kind, _ in keys]
        texts = [cache.get(key) if ok else None for key, ok in zip(keys, cached, strict=True)]
        missing = [key for key, text in zip(keys, texts, strict=True) if text is None]
        if missing:
            tokens = {
                key: cache.reading(key)
                for key, ok, text in zip(keys, cached, texts, strict=True)
                if ok and text is None
            }
            read: list[str | None] = [None] * len(missing)
            try:
                read = await self._read(_read_texts, missing)  # one hop for all of them
            finally:
                # not while writes may be in limbo (a stalled one can still land later)
                fill = self.health.ok
                for key, text in zip(missing, read, strict=True):
                    token = tokens.get(key)
                    if token is not None:
                        cache.read(key, text if fill else None, token)
            found = dict(zip(missing, read, strict=True))
            texts = [found[k] if t is None else t for k, t in zip(keys, texts, strict=True)]
        return [None if text is None else fast_json.loads(text) for text in texts]

    async def delete_record(self, kind: str, record_id: str) -> bool:
        def follow(done: bool) -> None:
            if done:
                self._cache.deleted((kind, record_id))
            else:
                self._cache.clear()

        cursor = await self._write(
            lambda db: db.execute(
                "DELETE FROM records WHERE kind = ? AND id = ?", (kind, record_id)
            ),
            then=follow,
        )
        return (cursor.rowcount or 0) > 0

    async def list_records(self, kind: str, review_id: str) -> list[dict[str, Any]]:
        rows = await self._read(
            lambda db: db.execute(
                "SELECT data FROM records WHERE kind = ? AND review_id = ? ORDER BY created, id",
                (kind, review_id),
            ).fetchall()
        )
        return [fast_json.loads(r[0]) for r in rows]

    # --- ballots -------------------------------------------------------------------

    async def cast_vote(self, ballot: str, voter: str, target: str, limit: int) -> VoteOutcome:
        self.health.check()  # not queued behind a commit that hangs
        # a vote's own error is raised by the group commit, never returned
        return cast(VoteOutcome, await self._votes.write((True, ballot, voter, target, limit)))

    async def retract_vote(self, ballot: str, voter: str, target: str) -> VoteOutcome:
        self.health.check()
        return cast(VoteOutcome, await self._votes.write((False, ballot, voter, target, 0)))

    async def _vote_batch(self, batch: list[VoteChange]) -> list[VoteOutcome | StorageError]:
        outcomes = await self._write(_vote_batch, batch)
        return [self._error(o) if isinstance(o, sqlite3.Error) else o for o in outcomes]

    async def tally(self, ballot: str) -> dict[str, int]:
        rows = await self._read(
            lambda db: db.execute(
                "SELECT target, SUM(count) FROM votes WHERE ballot = ? GROUP BY target "
                "HAVING SUM(count) > 0",
                (ballot,),
            ).fetchall()
        )
        return {str(r[0]): int(r[1]) for r in rows}

    async def votes_of(self, ballot: str, voter: str) -> dict[str, int]:
        return await self._read(lambda db: _votes_of(db, ballot, voter))

    # --- sorted indexes ------------------------------------------------------------

    async def index_put(self, index: str, member: str, score: float, data: dict[str, Any]) -> None:
        row = (index, member, float(score), fast_json.dumps(data))
        await self._write(
            lambda db: db.execute(
                "INSERT INTO index_entries (idx, member, score, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (idx, member) DO UPDATE SET score = excluded.score, "
                "data = excluded.data",
                row,
            )
        )

    async def index_remove(self, index: str, member: str) -> bool:
        cursor = await self._write(
            lambda db: db.execute(
                "DELETE FROM index_entries WHERE idx = ? AND member = ?", (index, member)
            )
        )
        return (cursor.rowcount or 0) > 0

    async def index_get(self, index: str, member: str) -> IndexEntry | None:
        row = await self._read(
            lambda db: db.execute(
                "SELECT member, score, data FROM index_entries WHERE idx = ? AND member = ?",
                (index, member),
            ).fetchone()
        )
        return _entry(row) if row else None

    async def index_get_many(self, index: str, members: list[str]) -> list[IndexEntry | None]:
        found: dict[str, IndexEntry] = {}
        for start in range(0, len(members), PAGE_ROWS):  # bound the statement's parameters
            chunk = members[start : start + PAGE_ROWS]
            marks = ",".join("?" * len(chunk))
            query = (
                "SELECT member, score, data FROM index_entries "
                f"WHERE idx = ? AND member IN ({marks})"
            )
            rows = await self._read(
                lambda db, q=query, c=chunk: db.execute(q, (index, *c)).fetchall()
            )
            found.update((str(row[0]), _entry(row)) for row in rows)
        return [found.get(member) for member in members]

    async def index_range(
        self,
        index: str,
        *,
        low: float = float("-inf"),
        high: float = float("inf"),
        offset: int = 0,
        limit: int | None = None,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        # Ties go by member in both backends (Redis orders equal scores bytewise, as
        # SQLite's BINARY collation does), so pages never overlap or skip.
        order = "score DESC, member DESC" if reverse else "score, member"
        query = (
            "SELECT member, score, data FROM index_entries "
            f"WHERE idx = ? AND score >= ? AND score <= ? ORDER BY {order} LIMIT ? OFFSET ?"
        )
        args = (index, low, high, -1 if limit is None else max(limit, 0), max(offset, 0))
        rows = await self._read(lambda db: db.execute(query, args).fetchall())
        return [_entry(row) for row in rows]

    async def index_count(
        self, index: str, *, low: float = float("-inf"), high: float = float("inf")
    ) -> int:
        if low == float("-inf") and high == float("inf"):
            row = await self._read(
                lambda db: db.execute(
                    "SELECT n FROM index_sizes WHERE idx = ?", (index,)
                ).fetchone()
            )
            return int(row[0]) if row else 0
        (count,) = await self._read(
            lambda db: db.execute(
                "SELECT COUNT(*) FROM index_entries WHERE idx = ? AND score >= ? AND score <= ?",
                (index, low, high),
            ).fetchone()
        )
        return int(count)

    async def index_drop(self, index: str) -> None:
        await self._write(
            lambda db: db.execute("DELETE FROM index_entries WHERE idx = ?", (index,))
        )

    # --- whole-store passes --------------------------------------------------------

    async def all_records(self, kind: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        # Pages in id order along the primary key: each page is one short read, so
        # writers are never held up by a long pass.
        after = ""
        while True:
            rows = await self._read(
                lambda db, after=after: db.execute(
                    "SELECT id, data FROM records WHERE kind = ? AND id > ? ORDER BY id LIMIT ?",
                    (kind, after, PAGE_ROWS),
                ).fetchall()
            )
            for record_id, data in rows:
                yield str(record_id), fast_json.loads(data)
            if len(rows) < PAGE_ROWS:
                return
            after = str(rows[-1][0])

    async def purge_review(self, review_id: str) -> None:
        # whatever was kept or read meanwhile may be gone once it has run
        await self._write(_purge_review, review_id, then=lambda _: self._cache.clear())


def _purge_review(db: sqlite3.Connection, review_id: str) -> None:
    """Delete a review's records, doc logs and ballots in one transaction.

    Docs and ballots are named "<review>/...": a range on the key from "<review>/" up to
    "<review>0" ('0' follows '/') is exactly that prefix, uses the primary keys, and
    needs no LIKE (whose wildcards '_' and '%' review ids could contain).
    """
    low, high = f"{review_id}/", f"{review_id}0"
    with _transaction(db, "IMMEDIATE"):
        # Records are keyed (kind, review_id, ...); walk the few kinds along the primary
        # key instead of scanning the table for the review.
        kind = db.execute("SELECT MIN(kind) FROM records").fetchone()[0]
        while kind is not None:
            db.execute("DELETE FROM records WHERE kind = ? AND review_id = ?", (kind, review_id))
            kind = db.execute("SELECT MIN(kind) FROM records WHERE kind > ?", (kind,)).fetchone()[0]
        db.execute("DELETE FROM doc_updates WHERE doc >= ? AND doc < ?", (low, high))
        db.execute("DELETE FROM doc_snapshots WHERE doc >= ? AND doc < ?", (low, high))
        db.execute("DELETE FROM votes WHERE ballot >= ? AND ballot < ?", (low, high))


def _count_indexes_once(db: sqlite3.Connection) -> None:
    """Fill index_sizes for index rows written before it (and its triggers) existed."""
    with _transaction(db, "IMMEDIATE"):
        if db.execute("SELECT 1 FROM index_sizes LIMIT 1").fetchone() is None:
            db.execute(
                "INSERT INTO index_sizes (idx, n) "
                "SELECT idx, COUNT(*) FROM index_entries GROUP BY idx"
            )


def _entry(row: Any) -> IndexEntry:
    return IndexEntry(str(row[0]), float(row[1]), fast_json.loads(row[2]))


def _read_texts(db: sqlite3.Connection, keys: list[tuple[str, str]]) -> list[str | None]:
    texts: list[str | None] = []
    for kind, record_id in keys:
        row = db.execute(
            "SELECT data FROM records WHERE kind = ? AND id = ?", (kind, record_id)
        ).fetchone()
        texts.append(None if row is None else str(row[0]))
    return texts


def _write_rows(db: sqlite3.Connection, rows: list[RecordRow]) -> None:
    """Upsert ``rows`` atomically: one statement (its own transaction), or one
    transaction of several when there are more than a statement takes."""
    if len(rows) <= ROWS_PER_STATEMENT:
        db.execute(_put_records_sql(len(rows)), [v for row in rows for v in row])
        return
    with _transaction(db):
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            db.execute(_put_records_sql(len(chunk)), [v for row in chunk for v in row])


def _rows_of(batch: list[Append]) -> list[RecordRow]:
    """The records that ride with a batch of appends, in the batch's order."""
    return [row for _, _, own in batch for row in own]


def _append_batch(db: sqlite3.Connection, batch: list[Append]) -> list[int]:
    """Insert a batch and the records that ride with it atomically (one statement, or
    one transaction of several); return each update's sequence number."""

    def insert(chunk: list[Append]) -> int:
        values = [v for key, update, _ in chunk for v in (key, update)]
        cursor = db.execute(_append_sql(len(chunk)), values)
        return int(cursor.lastrowid or 0)

    rows = _rows_of(batch)
    if len(batch) <= ROWS_PER_STATEMENT and not rows:
        last = insert(batch)
    else:
        with _transaction(db):
            for start in range(0, len(batch), ROWS_PER_STATEMENT):
                last = insert(batch[start : start + ROWS_PER_STATEMENT])
            for start in range(0, len(rows), ROWS_PER_STATEMENT):
                chunk = rows[start : start + ROWS_PER_STATEMENT]
                db.execute(_put_records_sql(len(chunk)), [v for row in chunk for v in row])
    # AUTOINCREMENT numbers the rows of one connection's transaction consecutively.
    first = last - len(batch) + 1
    return list(range(first, last + 1))


def _checkpoint(db: sqlite3.Connection, patient: bool) -> bool:
    """Copy the log, and start it over when it is long (see WAL_RESTART_FRAMES), waiting
    for readers and writers only if ``patient``. False: the log is long and stays so."""
    if _copy_log(db) < WAL_RESTART_FRAMES:
        return True
    return _start_over(db, patient)


def _copy_log(db: sqlite3.Connection) -> int:
    """PASSIVE: copy into the database what no reader still needs, holding nobody
    back. The log's length in frames."""
    [(_busy, frames, _copied)] = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
    return int(frames)


def _start_over(db: sqlite3.Connection, patient: bool) -> bool:
    """RESTART: with writes held back, copy what was committed since and wait until
    the next write can start the log at its beginning. False: someone was in the way."""
    db.execute(f"PRAGMA busy_timeout={WAL_RESTART_WAIT_MS if patient else 0}")
    try:
        [(busy, _frames, _copied)] = db.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
    finally:
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return not busy


def _set_up_writer_wal(db: sqlite3.Connection) -> None:
    """The writer's commits never checkpoint (the checkpoint thread does), and the first
    commit after the log starts over cuts an overgrown file back (WAL_FILE_LIMIT)."""
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute(f"PRAGMA journal_size_limit={WAL_FILE_LIMIT}").fetchall()


def _mark_read(db: sqlite3.Connection) -> None:
    """After a write: begin and end a read, which leaves a WAL read mark at the new end
    of the log. Readers that find a mark for the end take it without writing to the
    shared-memory file; a reader that must write one blocks on a frozen disk (the
    freeze write-protects the file's pages). It runs once the write's result is on its
    way to the loop: alone it costs ~2 µs, but on the thread, between the loop's turns
    at the GIL, it cost ~30 µs of CPU, which the write's caller no longer waits for."""
    if not db.in_transaction:
        db.execute("SELECT 1 FROM health LIMIT 1").fetchall()


def _probe_write(db: sqlite3.Connection, folder: Path, need_free: int) -> bool:
    """One small write, after checking there is ``need_free`` bytes of room."""
    if need_free:
        fs = os.statvfs(folder)
        free = fs.f_bfree if os.geteuid() == 0 else fs.f_bavail  # root may use the reserve
        if free * fs.f_frsize < need_free:
            return False
    with _transaction(db):
        db.execute("INSERT OR REPLACE INTO health (id, at) VALUES (1, ?)", (time.time_ns(),))
    return True


def _is_full(exc: BaseException | None) -> bool:
    """SQLITE_FULL (a write found no space), or ENOSPC in the words of another error."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & 0xFF == sqlite3.SQLITE_FULL:
        return True
    if isinstance(exc, OSError) and exc.errno == 28:  # ENOSPC
        return True
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark the outcome of a write nobody waits for any more as seen (no log noise)."""
    if not future.cancelled():
        future.exception()


def _vote_batch(
    db: sqlite3.Connection, batch: list[VoteChange]
) -> list[VoteOutcome | sqlite3.Error]:
    """Every vote of ``batch`` in one transaction, in order, each in a savepoint: a vote
    that fails is undone alone and the others are committed. A failure of the whole
    (the disk is full) is raised for all of them."""
    outcomes: list[VoteOutcome | sqlite3.Error] = []
    with _transaction(db, "IMMEDIATE"):
        for is_cast, ballot, voter, target, limit in batch:
            db.execute("SAVEPOINT vote")
            try:
                if is_cast:
                    outcomes.append(_cast_vote(db, ballot, voter, target, limit))
                else:
                    outcomes.append(_retract_vote(db, ballot, voter, target))
            except sqlite3.Error as exc:
                db.execute("ROLLBACK TO vote")
                outcomes.append(exc)
            db.execute("RELEASE vote")
    return outcomes


def _cast_vote(
    db: sqlite3.Connection, ballot: str, voter: str, target: str, limit: int
) -> VoteOutcome:
    (used,) = db.execute(
        "SELECT COALESCE(SUM(count), 0) FROM votes WHERE ballot = ? AND voter = ?",
        (ballot, voter),
    ).fetchone()
    done = int(used) < limit
    if done:
        db.execute(
            "INSERT INTO votes (ballot, voter, target, count) VALUES (?, ?, ?, 1) "
            "ON CONFLICT (ballot, voter, target) DO UPDATE SET count = count + 1",
            (ballot, voter, target),
        )
    return VoteOutcome(done, _votes_of(db, ballot, voter))


def _retract_vote(db: sqlite3.Connection, ballot: str, voter: str, target: str) -> VoteOutcome:
    key = (ballot, voter, target)
    changed = db.execute(
        "UPDATE votes SET count = count - 1 "
        "WHERE ballot = ? AND voter = ? AND target = ? AND count > 0",
        key,
    ).rowcount
    # This row only, by its key: the table holds every review's votes
    db.execute(
        "DELETE FROM votes WHERE ballot = ? AND voter = ? AND target = ? AND count <= 0", key
    )
    return VoteOutcome((changed or 0) > 0, _votes_of(db, ballot, voter))


def _votes_of(db: sqlite3.Connection, ballot: str, voter: str) -> dict[str, int]:
    rows = db.execute(
        "SELECT target, count FROM votes WHERE ballot = ? AND voter = ? AND count > 0",
        (ballot, voter),
    ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}
