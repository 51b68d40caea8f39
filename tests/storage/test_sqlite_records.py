"""SQLite record writes and reads on the hot path: concurrent writes share a statement
and a commit, a bad one fails alone, and hot kinds answer from memory (record_cache.py)
without ever answering with what storage no longer holds."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc

from debrief.storage import StorageError, StorageStalled
from debrief.storage.base import VoteOutcome
from debrief.storage.sqlite import SQLiteStorage, _vote_batch, _write_rows
from support.doc_edits import map_edit as edit

STALL_S = 0.3


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    opened = SQLiteStorage(tmp_path / "db.sqlite3", stall_s=STALL_S, cached_kinds=("review",))
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def count_calls(monkeypatch: pytest.MonkeyPatch, store: SQLiteStorage, name: str) -> list[Any]:
    calls: list[Any] = []
    original: Callable[..., Any] = getattr(store, name)

    async def counted(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(fn)
        return await original(fn, *args, **kwargs)

    monkeypatch.setattr(store, name, counted)
    return calls


async def test_concurrent_record_writes_share_commits_and_all_land(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = count_calls(monkeypatch, store, "_write")
    await asyncio.gather(*(
        store.put_records([("note", f"n{i}", {"i": i}, "r1"), ("tally", f"t{i}", {"i": i}, "r1")])
        for i in range(50)
    ))  # fmt: skip
    assert len([fn for fn in writes if fn is _write_rows]) < 50  # batched
    for i in range(50):
        assert await store.get_record("note", f"n{i}") == {"i": i}
        assert await store.get_record("tally", f"t{i}") == {"i": i}


async def test_a_bad_write_in_a_batch_fails_alone(store: SQLiteStorage) -> None:
    bad: Any = None  # an id SQLite refuses (NOT NULL)
    results = await asyncio.gather(
        store.put_record("note", "first", {"ok": 1}),
        store.put_records([("note", "mine", {"ok": 2}, None), ("note", bad, {}, None)]),
        store.put_record("note", "last", {"ok": 3}),
        return_exceptions=True,
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], StorageError)
    assert await store.get_record("note", "first") == {"ok": 1}
    assert await store.get_record("note", "mine") is None  # a caller's rows: all or none
    assert await store.get_record("note", "last") == {"ok": 3}


async def test_concurrent_votes_share_commits_and_a_bad_one_fails_alone(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Votes of many ballots at once ride in shared transactions, each in its own
    savepoint: a vote SQLite refuses is undone alone, and limits still hold in a batch."""
    writes = count_calls(monkeypatch, store, "_write")
    bad: Any = None  # a target SQLite refuses (NOT NULL)
    casts = [store.cast_vote(f"r{i}/factors", "alice", "n1", 3) for i in range(20)]
    casts.insert(5, store.cast_vote("r5/factors", "bob", bad, 3))
    casts += [store.cast_vote("r0/factors", "carol", f"n{i}", 2) for i in range(4)]
    results = await asyncio.gather(*casts, return_exceptions=True)
    assert len([fn for fn in writes if fn is _vote_batch]) < len(casts)  # batched
    assert isinstance(results.pop(5), StorageError)
    outcomes = [r for r in results if isinstance(r, VoteOutcome)]
    assert len(outcomes) == len(results)  # every other vote was taken or refused by its limit
    assert all(r.done and r.mine == {"n1": 1} for r in outcomes[:20])
    assert [r.done for r in outcomes[20:]] == [True, True, False, False]
    assert await store.tally("r5/factors") == {"n1": 1}  # bob's refused vote left nothing
    assert await store.votes_of("r5/factors", "bob") == {}
    assert await store.tally("r0/factors") == {"n1": 2, "n0": 1}
    retracted = await asyncio.gather(
        store.retract_vote("r0/factors", "carol", "n0"),
        store.retract_vote("r0/factors", "carol", "n0"),  # the second finds none left
        store.retract_vote("r1/factors", "alice", "n1"),
    )
    assert [r.done for r in retracted] == [True, False, True]
    assert await store.tally("r0/factors") == {"n1": 2}


async def test_hot_kinds_answer_from_memory_and_follow_every_write(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.put_record("review", "r1", {"v": 1})
    await store.put_record("note", "n1", {"v": 1})
    reads = count_calls(monkeypatch, store, "_read")
    assert await store.get_records([("review", "r1"), ("note", "n1")]) == [{"v": 1}, {"v": 1}]
    assert len(reads) == 1
    assert await store.get_record("review", "r1") == {"v": 1}  # kept: no read
    assert len(reads) == 1
    assert await store.get_record("note", "n1") == {"v": 1}  # not a hot kind: read
    assert len(reads) == 2
    await store.put_record("review", "r1", {"v": 2})
    assert await store.get_record("review", "r1") == {"v": 2}
    assert await store.delete_record("review", "r1")
    assert await store.get_record("review", "r1") is None
    assert len(reads) == 3  # a deleted record is not kept as missing: read again
    (found,) = await store.get_records([("review", "r1")])
    assert found is None


async def test_an_append_and_its_records_land_together_or_not_at_all(
    store: SQLiteStorage,
) -> None:
    doc = Doc()
    await store.put_record("review", "r1", {"v": 1})
    assert await store.get_record("review", "r1") == {"v": 1}  # kept in memory
    bad: Any = None  # an id SQLite refuses (NOT NULL), after the update's insert
    with pytest.raises(StorageError):
        await store.append_update(
            "r1/room",
            edit(doc, "a", 1),
            [("review", "r1", {"v": 2}, None), ("note", bad, {}, "r1")],
        )
    assert (await store.load_doc("r1/room")).updates == []
    assert await store.get_record("review", "r1") == {"v": 1}
    update = edit(doc, "b", 2)
    await store.append_update("r1/room", update, [("review", "r1", {"v": 3}, None)])
    assert (await store.load_doc("r1/room")).updates == [update]
    assert await store.get_record("review", "r1") == {"v": 3}  # the memory follows


async def test_another_backend_of_the_same_file_is_seen(
    tmp_path: Path, store: SQLiteStorage
) -> None:
    other = SQLiteStorage(tmp_path / "db.sqlite3", cached_kinds=())
    await other.open()
    try:
        await store.put_record("review", "r1", {"v": 1})
        assert await store.get_record("review", "r1") == {"v": 1}
        await other.put_record("review", "r1", {"v": 2})  # caches nothing, still tells
        assert await store.get_record("review", "r1") == {"v": 2}
    finally:
        await other.close()


async def test_nothing_is_kept_while_a_stalled_write_may_still_land(
    tmp_path: Path, store: SQLiteStorage
) -> None:
    await store.put_record("review", "r1", {"v": 1})
    assert await store.get_record("review", "r1") == {"v": 1}
    blocker = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock: ours waits
        with pytest.raises(StorageStalled):
            await store.put_record("review", "r1", {"v": 2})
        assert await store.get_record("review", "r1") == {"v": 1}  # not landed yet
        back = asyncio.Event()
        store.health.when_ok(back.set)
        blocker.execute("COMMIT")  # the stalled write lands now
        await asyncio.wait_for(back.wait(), 10)
        assert await store.get_record("review", "r1") == {"v": 2}
    finally:
        blocker.close()


async def test_the_cache_follows_a_write_whose_caller_gave_up(tmp_path: Path) -> None:
    """A caller cancelled while its write waits on the disk: the write still lands, and
    what the cache keeps follows it then (not what a read found before it landed)."""
    path = tmp_path / "db.sqlite3"
    store = SQLiteStorage(path, stall_s=30, cached_kinds=("review",))
    await store.open()
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        await store.put_record("review", "r1", {"v": 1})
        assert await store.get_record("review", "r1") == {"v": 1}
        blocker.execute("BEGIN IMMEDIATE")  # the write below waits for this lock
        writing = asyncio.create_task(store.put_record("review", "r1", {"v": 2}))
        await asyncio.sleep(0)  # handed to the writer thread
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writing
        assert await store.get_record("review", "r1") == {"v": 1}  # not landed yet
        blocker.execute("COMMIT")
        await store.put_record("review", "r2", {})  # queued behind it: it has landed
        assert await store.get_record("review", "r1") == {"v": 2}
    finally:
        blocker.close()
        await store.close()
