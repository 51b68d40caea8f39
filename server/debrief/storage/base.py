"""The storage interface every backend implements, and its contract.

Two kinds of data:
- a document log per (review, doc): a snapshot plus the updates appended since, in
  order. ``append_update`` returns only once the update is durable; the caller makes
  it visible to anyone after that ("durable before visible").
- records: small JSON objects by (kind, id), optionally tied to a review so they can
  be listed per review (reviews, invites, sessions, private notes, ...).

The contract suite in tests/storage/ runs against every backend.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from debrief.storage.errors import StorageError, StorageStalled, StorageUnavailable
from debrief.storage.health import StorageHealth

RecordWrite = tuple[str, str, dict[str, Any], str | None]  # kind, id, data, review id

__all__ = [
    "IndexEntry",
    "RecordWrite",
    "Storage",
    "StorageError",
    "StorageHealth",
    "StorageStalled",
    "StorageUnavailable",
    "StoredDoc",
]

# (event loop, scope, name) -> [lock, users]; asyncio locks belong to one loop. An entry
# goes with its last user: names are per review and doc, and a server lives through many.
_LOCAL_LOCKS: dict[tuple[int, str, str], list[Any]] = {}


class LocalLock:
    """An in-process lock by name (`Storage._local_lock`). Not generator-based: every
    command takes one, and a class costs a fraction of a generator's frames."""

    __slots__ = ("entry", "key")

    def __init__(self, key: tuple[int, str, str]) -> None:
        self.key = key

    async def __aenter__(self) -> None:
        entry = _LOCAL_LOCKS.get(self.key)
        if entry is None:
            entry = _LOCAL_LOCKS[self.key] = [asyncio.Lock(), 0]
        entry[1] += 1
        self.entry = entry
        try:
            await entry[0].acquire()
        except BaseException:  # cancelled while waiting: not a user any more
            self._leave()
            raise

    async def __aexit__(self, *_: object) -> None:
        self.entry[0].release()
        self._leave()

    def _leave(self) -> None:
        entry = self.entry
        entry[1] -= 1
        if entry[1] == 0 and _LOCAL_LOCKS.get(self.key) is entry:
            del _LOCAL_LOCKS[self.key]


class _LockedReading:
    """`Storage.lock_reading` on a backend without a combined round trip."""

    __slots__ = ("keys", "lock", "storage")

    def __init__(
        self,
        storage: Storage,
        lock: contextlib.AbstractAsyncContextManager[None],
        keys: list[tuple[str, str]],
    ) -> None:
        self.storage = storage
        self.lock = lock
        self.keys = keys

    async def __aenter__(self) -> list[dict[str, Any] | None]:
        await self.lock.__aenter__()
        try:
            return [await self.storage.get_record(kind, i) for kind, i in self.keys]
        except BaseException as exc:
            await self.lock.__aexit__(type(exc), exc, exc.__traceback__)
            raise

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self.lock.__aexit__(*exc)


@dataclass
class StoredDoc:
    """What a doc's log holds: the latest snapshot and every update after it."""

    snapshot: bytes | None = None
    updates: list[bytes] = field(default_factory=list)
    # Opaque position of the last update read; pass it to ``compact``.
    position: str = "0"


@dataclass(frozen=True)
class IndexEntry:
    """One member of a sorted index: its score and the small JSON summary kept with it."""

    member: str
    score: float
    data: dict[str, Any]


@dataclass(frozen=True)
class VoteOutcome:
    """What a cast or a retraction did, and the voter's votes per target in that ballot
    right after it (read in the same step, so the answer needs no second trip)."""

    done: bool  # False: the limit was reached, or there was no vote to take back
    mine: dict[str, int]

    def __bool__(self) -> bool:
        # Not a yes/no: `if await store.cast_vote(...)` would always pass. Ask `.done`.
        raise TypeError("VoteOutcome has no truth value; use .done")


class Storage(abc.ABC):
    """A backend. ``open`` before use, ``close`` when done (the app lifespan does both)."""

    # Whether other processes write the same data (then what a process caches of the
    # records may be out of date; single-process backends see every write themselves).
    shared: bool = False

    @property
    def health(self) -> StorageHealth:
        """Whether writes are taken right now (ok / stalled / full); see health.py."""
        found: StorageHealth | None = self.__dict__.get("_health")
        if found is None:
            found = self.__dict__["_health"] = StorageHealth()
        return found

    async def open(self) -> None:  # noqa: B027 - optional hook
        """Connect and create whatever the backend needs."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Flush and release connections."""

    def lock(self, name: str) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold ``name`` exclusively for a read-modify-write of records and docs.

        One process is all a single-file backend serves, so an in-process lock is
        enough here; backends shared by several processes override this.
        """
        return self._local_lock(name)

    def _local_lock(self, name: str) -> LocalLock:
        """The in-process lock ``name``, kept only while someone holds or awaits it."""
        return LocalLock((id(asyncio.get_running_loop()), self.lock_scope(), name))

    def lock_reading(
        self, name: str, keys: list[tuple[str, str]]
    ) -> contextlib.AbstractAsyncContextManager[list[dict[str, Any] | None]]:
        """``lock(name)``, yielding the records (kind, id) of ``keys`` as read once the lock
        is held (None: missing). Shared backends take the lock and read in one round trip."""
        return _LockedReading(self, self.lock(name), keys)

    def release_lock_with_next_write(self) -> None:
        """Inside a held lock, from a caller that writes nothing else under it: the next
        `put_records`, `append_update`, `cast_vote` or `retract_vote` of this task may let
        the lock go in the same step. A shared backend saves the unlock's round trip; an
        embedded one has nothing to save."""
        return None

    def lock_scope(self) -> str:
        """What the in-process locks are shared over (SQLite: the database file)."""
        return str(id(self))

    async def ping(self) -> bool:
        """Whether the backend answers right now (``/healthz``); embedded ones always do."""
        return True

    # --- document logs -------------------------------------------------------------

    @abc.abstractmethod
    async def load_doc(self, key: str) -> StoredDoc:
        """The snapshot and updates of ``key`` (empty for a new doc)."""

    @abc.abstractmethod
    async def append_update(
        self, key: str, update: bytes, records: Sequence[RecordWrite] = ()
    ) -> str:
        """Durably append ``update``; return its position. Raise StorageError on failure.

        ``records`` (as `put_records` takes them) are written in the same step: a reader
        or a crash sees the update and all of them, or none (a note and the count it
        changes are stored so, in one commit)."""

    @abc.abstractmethod
    async def compact(self, key: str, snapshot: bytes, upto: str) -> bool:
        """Replace the snapshot and every update up to ``upto`` with ``snapshot``.

        ``snapshot`` must contain all of them. Updates after ``upto`` stay. Returns False
        when nothing was done (e.g. another compactor already went further).
        """

    @abc.abstractmethod
    async def delete_doc(self, key: str) -> None:
        """Remove a doc's log entirely."""

    # --- records -------------------------------------------------------------------

    @abc.abstractmethod
    async def put_record(
        self, kind: str, record_id: str, data: dict[str, Any], review_id: str | None = None
    ) -> None:
        """Create or replace a record."""

    async def put_records(self, records: list[RecordWrite]) -> None:
        """Create or replace several records (kind, id, data, review_id) all at once: a
        reader or a crash sees all of them or none. This fallback writes one at a time."""
        for kind, record_id, data, review_id in records:
            await self.put_record(kind, record_id, data, review_id)

    @abc.abstractmethod
    async def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        """The record, or None."""

    async def get_records(self, keys: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        """The records of (kind, record_id) ``keys``, each or None, in one storage call
        where the backend can (a command reads its session and its review so). This
        fallback reads one at a time."""
        return [await self.get_record(kind, record_id) for kind, record_id in keys]

    @abc.abstractmethod
    async def delete_record(self, kind: str, record_id: str) -> bool:
        """Delete; True when it existed."""

    @abc.abstractmethod
    async def list_records(self, kind: str, review_id: str) -> list[dict[str, Any]]:
        """Every record of ``kind`` tied to ``review_id``, oldest first."""

    # --- ballots (dot voting) ------------------------------------------------------
    # A ballot is one vote round, e.g. "<review>/<section>". Voters may stack several
    # votes on one target. Casting is atomic against the limit, even under concurrency
    # and across processes: the check and the write happen in one step.

    @abc.abstractmethod
    async def cast_vote(self, ballot: str, voter: str, target: str, limit: int) -> VoteOutcome:
        """Add one vote unless ``voter`` already has ``limit`` votes in ``ballot``."""

    @abc.abstractmethod
    async def retract_vote(self, ballot: str, voter: str, target: str) -> VoteOutcome:
        """Remove one of ``voter``'s votes on ``target``; not done when there was none."""

    @abc.abstractmethod
    async def tally(self, ballot: str) -> dict[str, int]:
        """Votes per target (targets with no votes left out)."""

    @abc.abstractmethod
    async def votes_of(self, ballot: str, voter: str) -> dict[str, int]:
        """``voter``'s votes per target."""

    # --- sorted indexes (cross-review views) -------------------------------------------
    # Kept beside the docs so that team pages, "my actions" and overdue lists read a few
    # index rows instead of loading reviews. An index is named by a string (e.g.
    # "team/<id>/reviews"); a member appears at most once per index with one score and a
    # small JSON summary. Order is by score, then member; ranges include both bounds.

    @abc.abstractmethod
    async def index_put(self, index: str, member: str, score: float, data: dict[str, Any]) -> None:
        """Add ``member`` or replace its score and summary."""

    @abc.abstractmethod
    async def index_remove(self, index: str, member: str) -> bool:
        """Remove ``member``; True when it was there."""

    @abc.abstractmethod
    async def index_get(self, index: str, member: str) -> IndexEntry | None:
        """One member's entry, or None."""

    async def index_get_many(self, index: str, members: list[str]) -> list[IndexEntry | None]:
        """Several members' entries in one read, in the order asked (None: not there).
        Backends answer it in one round trip; this fallback asks one at a time."""
        return [await self.index_get(index, member) for member in members]

    @abc.abstractmethod
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
        """Members with ``low <= score <= high``, by score (highest first if ``reverse``),
        skipping ``offset`` and returning at most ``limit`` (None: all)."""

    @abc.abstractmethod
    async def index_count(
        self, index: str, *, low: float = float("-inf"), high: float = float("inf")
    ) -> int:
        """How many members have ``low <= score <= high``."""

    @abc.abstractmethod
    async def index_drop(self, index: str) -> None:
        """Remove the whole index."""

    # --- whole-store passes (migrations, backup, deleting a review) --------------------

    @abc.abstractmethod
    def all_records(self, kind: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Every record of ``kind`` as (id, data), in no particular order, read in pages
        (never the whole store at once). Migrations use it; requests never do."""

    @abc.abstractmethod
    async def purge_review(self, review_id: str) -> None:
        """Delete everything stored for a review: every record tied to it (any kind), its
        docs' logs ("<review_id>/<doc>"), and its ballots ("<review_id>/..."). Indexes are
        the caller's to update. Gone for good; idempotent."""
