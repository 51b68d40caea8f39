"""The storage contract: every backend must pass every test here."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pycrdt import Doc, Map, merge_updates

from debrief.storage.base import IndexEntry, Storage, VoteOutcome
from debrief.storage.schema import schema_version, set_schema_version
from debrief.storage.sqlite import SQLiteStorage
from support.doc_edits import map_edit as edit

BackendFactory = Callable[[], Storage]


def sqlite_factory(tmp_path: Path) -> BackendFactory:
    path = tmp_path / "contract.sqlite3"
    return lambda: SQLiteStorage(path)


def sqlite_cached_factory(tmp_path: Path) -> BackendFactory:
    """Every kind of record kept in memory once read (the server keeps a few hot kinds)."""
    path = tmp_path / "contract.sqlite3"
    return lambda: SQLiteStorage(path, cached_kinds=None)


def redis_factory(tmp_path: Path) -> BackendFactory:
    from debrief.storage.redis import RedisStorage

    prefix = f"debrief-test-{secrets.token_hex(4)}:"
    return lambda: RedisStorage("redis://127.0.0.1:6379/0", prefix=prefix)


FACTORIES = {
    "sqlite": sqlite_factory,
    "sqlite-cached": sqlite_cached_factory,
    "redis": redis_factory,
}


@pytest.fixture(params=list(FACTORIES))
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[BackendFactory]:
    if request.param == "redis":
        pytest.importorskip("debrief.storage.redis")
    factory = FACTORIES[request.param](tmp_path)
    opened: list[Storage] = []

    def make() -> Storage:
        store = factory()
        opened.append(store)
        return store

    yield make
    for store in opened:
        cleanup = getattr(store, "drop_everything", None)
        if cleanup is not None:
            await cleanup()
        await store.close()


async def opened(make: BackendFactory) -> Storage:
    store = make()
    await store.open()
    return store


def replay(snapshot: bytes | None, updates: list[bytes]) -> dict[str, object]:
    doc: Doc = Doc()
    for update in ([snapshot] if snapshot else []) + updates:
        doc.apply_update(update)
    return dict(doc.get("m", type=Map).to_py() or {})


async def test_new_doc_is_empty(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    stored = await store.load_doc("r1/timeline")
    assert stored.snapshot is None and stored.updates == []


async def test_appends_are_kept_in_order_per_doc(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    doc: Doc = Doc()
    updates = [edit(doc, f"k{i}", i) for i in range(20)]
    positions = [await store.append_update("r1/timeline", u) for u in updates]
    await store.append_update("r1/recap", edit(Doc(), "other", 1))
    assert len(set(positions)) == 20
    stored = await store.load_doc("r1/timeline")
    assert stored.updates == updates
    assert stored.position == positions[-1]


async def test_concurrent_appends_all_land(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    docs = [Doc() for _ in range(5)]
    updates = [[edit(d, f"k{i}", i) for i in range(30)] for d in docs]
    await asyncio.gather(
        *(store.append_update(f"r/{n}", u) for n, batch in enumerate(updates) for u in batch)
    )
    for n, batch in enumerate(updates):
        assert (await store.load_doc(f"r/{n}")).updates == batch


async def test_an_append_stores_the_records_given_with_it(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    doc: Doc = Doc()
    await store.put_record("note", "n0", {"v": 0}, "r1")
    first, second, third = (edit(doc, f"k{i}", i) for i in range(3))
    # in one batch: appends with records and without, and a record written twice
    positions = await asyncio.gather(
        store.append_update("r1/room", first, [("note", "n1", {"v": 1}, "r1")]),
        store.append_update("r1/room", second),
        store.append_update(
            "r1/room", third, [("note", "n1", {"v": 2}, "r1"), ("tally", "r1", {"n": 2}, "r1")]
        ),
    )
    stored = await store.load_doc("r1/room")
    assert stored.updates == [first, second, third]
    assert stored.position == positions[-1]
    assert await store.list_records("note", "r1") == [{"v": 0}, {"v": 2}]  # the later wins
    assert await store.get_record("tally", "r1") == {"n": 2}
    await store.close()
    again = await opened(make_store)
    assert await again.get_records([("note", "n1"), ("tally", "r1")]) == [{"v": 2}, {"n": 2}]


async def test_survives_reopen(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    update = edit(Doc(), "a", 1)
    await store.append_update("r1/timeline", update)
    await store.close()
    again = await opened(make_store)
    assert (await again.load_doc("r1/timeline")).updates == [update]


async def test_compaction_keeps_content_and_later_updates(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    doc: Doc = Doc()
    for i in range(10):
        await store.append_update("d", edit(doc, f"k{i}", i))
    loaded = await store.load_doc("d")
    snapshot = merge_updates(*loaded.updates)
    later = edit(doc, "late", True)
    await store.append_update("d", later)
    assert await store.compact("d", snapshot, loaded.position)
    after = await store.load_doc("d")
    assert after.snapshot == snapshot
    assert after.updates == [later]
    assert replay(after.snapshot, after.updates) == {
        **{f"k{i}": i for i in range(10)},
        "late": True,
    }
    # a second compactor with an older position changes nothing
    assert not await store.compact("d", snapshot, loaded.position)
    assert (await store.load_doc("d")).updates == [later]


async def test_delete_doc(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    await store.append_update("gone", edit(Doc(), "a", 1))
    await store.delete_doc("gone")
    assert (await store.load_doc("gone")).updates == []


async def test_records_roundtrip_list_and_delete(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    await store.put_record("invite", "c1", {"code": "c1", "n": 1}, "r1")
    await store.put_record("invite", "c2", {"code": "c2", "n": 2}, "r1")
    await store.put_record("invite", "c3", {"code": "c3", "n": 3}, "r2")
    await store.put_record("review", "r1", {"id": "r1", "title": "Zoë's outage ✓"})
    assert await store.get_record("review", "r1") == {"id": "r1", "title": "Zoë's outage ✓"}
    assert [r["code"] for r in await store.list_records("invite", "r1")] == ["c1", "c2"]
    await store.put_record("invite", "c1", {"code": "c1", "n": 10}, "r1")
    assert [r["n"] for r in await store.list_records("invite", "r1")] == [10, 2]
    assert await store.delete_record("invite", "c1")
    assert not await store.delete_record("invite", "c1")
    assert await store.get_record("invite", "c1") is None
    assert [r["code"] for r in await store.list_records("invite", "r1")] == ["c2"]
    assert await store.list_records("invite", "nobody") == []


async def test_votes_respect_the_limit_under_concurrency(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    results = await asyncio.gather(
        *(store.cast_vote("r1/factors", "alice", f"note{i % 4}", 3) for i in range(50))
    )
    assert sum(r.done for r in results) == 3
    assert sum((await store.votes_of("r1/factors", "alice")).values()) == 3
    # Each answer holds the voter's votes right after its own step: never above the limit,
    # and the last accepted one's are the final ones.
    assert all(sum(r.mine.values()) <= 3 for r in results)
    assert sorted(sum(r.mine.values()) for r in results if r.done) == [1, 2, 3]
    assert (await store.cast_vote("r1/factors", "bob", "note1", 3)).mine == {"note1": 1}
    stacked = await store.cast_vote("r1/factors", "bob", "note1", 3)  # stacking is allowed
    assert stacked.done and stacked.mine == {"note1": 2}
    tally = await store.tally("r1/factors")
    assert sum(tally.values()) == 5 and tally["note1"] >= 2
    other = await store.cast_vote("r1/other-section", "alice", "note1", 3)
    assert other.done and other.mine == {"note1": 1}  # ballots are separate


async def test_retract_vote(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    assert (await store.cast_vote("b", "alice", "n1", 1)).done
    refused = await store.cast_vote("b", "alice", "n2", 1)
    assert not refused.done and refused.mine == {"n1": 1}
    taken_back = await store.retract_vote("b", "alice", "n1")
    assert taken_back.done and taken_back.mine == {}
    nothing = await store.retract_vote("b", "alice", "n1")
    assert not nothing.done and nothing.mine == {}
    assert await store.tally("b") == {}
    assert await store.votes_of("b", "alice") == {}
    assert (await store.cast_vote("b", "alice", "n2", 1)).mine == {"n2": 1}
    assert await store.tally("b") == {"n2": 1}


def test_a_vote_outcome_is_not_a_yes_or_no() -> None:
    outcome = VoteOutcome(False, {})
    with pytest.raises(TypeError):
        bool(outcome)


async def test_lock_is_exclusive(make_store: BackendFactory) -> None:
    """A read-modify-write under the lock never loses an increment."""
    stores = [await opened(make_store), await opened(make_store)]
    await stores[0].put_record("counter", "c", {"n": 0})

    async def bump(store: Storage) -> None:
        async with store.lock("review:r1"):
            record = await store.get_record("counter", "c")
            assert record is not None
            await asyncio.sleep(0)  # let the others try to get in
            await store.put_record("counter", "c", {"n": record["n"] + 1})

    await asyncio.gather(*(bump(stores[i % 2]) for i in range(40)))
    assert await stores[0].get_record("counter", "c") == {"n": 40}


async def test_lock_reading_reads_under_the_lock(make_store: BackendFactory) -> None:
    """The records yielded by lock_reading are what the previous holder left, on any
    process; missing ones are None, and the lock is exclusive like lock()."""
    stores = [await opened(make_store), await opened(make_store)]
    await stores[0].put_record("counter", "c", {"n": 0})

    async def bump(store: Storage) -> None:
        keys = [("counter", "c"), ("counter", "missing")]
        async with store.lock_reading("review:r1", keys) as (record, missing):
            assert record is not None and missing is None
            await asyncio.sleep(0)
            await store.put_record("counter", "c", {"n": record["n"] + 1})

    await asyncio.gather(*(bump(stores[i % 2]) for i in range(40)))
    assert await stores[0].get_record("counter", "c") == {"n": 40}


async def test_get_records_reads_each_key_in_order(make_store: BackendFactory) -> None:
    """Several kinds at once, in the order asked, None where nothing is stored; what
    another process wrote is there."""
    stores = [await opened(make_store), await opened(make_store)]
    await stores[0].put_record("session", "s1", {"role": "scribe"})
    await stores[1].put_record("review", "r1", {"title": "Outage"})
    keys = [("review", "r1"), ("session", "gone"), ("session", "s1"), ("review", "s1")]
    for store in stores:
        assert await store.get_records(keys) == [
            {"title": "Outage"},
            None,
            {"role": "scribe"},
            None,  # the id of a record of another kind
        ]
        assert await store.get_records([]) == []
    await stores[1].delete_record("session", "s1")
    assert await stores[0].get_records([("session", "s1")]) == [None]


async def test_put_records_writes_all_and_lists_them(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    await store.put_record("note", "n0", {"v": 0}, "r1")
    await store.put_records(
        [
            ("note", "n1", {"v": 1}, "r1"),
            ("tally", "r1", {"n": 2}, "r1"),
            ("note", "n0", {"v": 9}, "r1"),
        ]
    )
    assert await store.list_records("note", "r1") == [{"v": 9}, {"v": 1}]  # n0 keeps its place
    assert await store.get_record("tally", "r1") == {"n": 2}
    await store.purge_review("r1")
    assert await store.get_record("tally", "r1") is None


# --- sorted indexes --------------------------------------------------------------------


async def fill_index(store: Storage, index: str) -> None:
    # Equal scores on purpose: ties must go by member, the same in every backend.
    for member, score in [("d", 2.0), ("a", 1.0), ("c", 2.0), ("b", 2.0), ("e", 3.5)]:
        await store.index_put(index, member, score, {"m": member, "s": score})


def members(entries: list[IndexEntry]) -> list[str]:
    return [entry.member for entry in entries]


async def test_index_orders_by_score_then_member(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    await fill_index(store, "team/t1/reviews")
    everything = await store.index_range("team/t1/reviews")
    assert members(everything) == ["a", "b", "c", "d", "e"]
    assert everything[0] == IndexEntry("a", 1.0, {"m": "a", "s": 1.0})
    assert members(await store.index_range("team/t1/reviews", reverse=True)) == [
        "e",
        "d",
        "c",
        "b",
        "a",
    ]
    assert await store.index_range("team/other/reviews") == []


async def test_index_bounds_are_inclusive(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    await fill_index(store, "ix")
    assert members(await store.index_range("ix", low=2.0, high=2.0)) == ["b", "c", "d"]
    assert members(await store.index_range("ix", low=1.0, high=2.0)) == ["a", "b", "c", "d"]
    assert members(await store.index_range("ix", low=2.5)) == ["e"]
    assert members(await store.index_range("ix", high=0.5)) == []
    assert members(await store.index_range("ix", low=2.0, reverse=True)) == ["e", "d", "c", "b"]
    assert await store.index_count("ix") == 5
    assert await store.index_count("ix", low=2.0, high=2.0) == 3
    assert await store.index_count("ix", low=1.5) == 4
    assert await store.index_count("ix", high=1.0) == 1
    assert await store.index_count("none") == 0


async def test_index_pages_with_offset_and_limit(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    await fill_index(store, "ix")
    assert members(await store.index_range("ix", offset=1, limit=2)) == ["b", "c"]
    assert members(await store.index_range("ix", offset=3)) == ["d", "e"]
    assert members(await store.index_range("ix", offset=1, limit=2, reverse=True)) == ["d", "c"]
    assert members(await store.index_range("ix", low=2.0, offset=2, limit=10)) == ["d", "e"]
    assert await store.index_range("ix", offset=5) == []
    assert await store.index_range("ix", limit=0) == []
    # Walking pages of equal scores neither repeats nor skips a member.
    pages = [members(await store.index_range("ix", offset=o, limit=2)) for o in (0, 2, 4)]
    assert [member for page in pages for member in page] == ["a", "b", "c", "d", "e"]


async def test_index_put_replaces_remove_and_drop(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    await fill_index(store, "ix")
    await fill_index(store, "kept")
    await store.index_put("ix", "a", 9.0, {"m": "a", "moved": True})
    assert await store.index_count("ix") == 5  # replaced, not added twice
    assert members(await store.index_range("ix")) == ["b", "c", "d", "e", "a"]
    assert await store.index_get("ix", "a") == IndexEntry("a", 9.0, {"m": "a", "moved": True})
    assert await store.index_get("ix", "zz") is None
    assert await store.index_remove("ix", "a")
    assert not await store.index_remove("ix", "a")
    assert await store.index_get("ix", "a") is None
    assert members(await store.index_range("ix")) == ["b", "c", "d", "e"]
    await store.index_drop("ix")
    assert await store.index_range("ix") == []
    assert await store.index_count("ix") == 0
    await store.index_drop("ix")  # dropping nothing is fine
    assert await store.index_count("kept") == 5  # other indexes untouched


async def test_index_get_many_answers_in_the_order_asked(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    await fill_index(store, "ix")
    await fill_index(store, "other")
    await store.index_put("ix", "c", 7.5, {"m": "c", "moved": True})
    found = await store.index_get_many("ix", ["e", "zz", "c", "a", "e"])
    assert found == [
        await store.index_get("ix", "e"),
        None,
        IndexEntry("c", 7.5, {"m": "c", "moved": True}),
        await store.index_get("ix", "a"),
        await store.index_get("ix", "e"),
    ]
    assert found[0] is not None and found[3] is not None
    assert await store.index_get_many("ix", []) == []
    assert await store.index_get_many("nothing", ["a"]) == [None]
    many = [f"m{i:04}" for i in range(1_200)]  # more than one statement's worth
    for i, member in enumerate(many):
        await store.index_put("big", member, float(i), {})
    assert [e.member if e else None for e in await store.index_get_many("big", many)] == many


async def test_index_keeps_large_scores_and_unicode(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    created = 1_764_331_200_123.0  # a created_ms: must come back exactly
    await store.index_put("ix:ü/1", "r_ü", created, {"title": "Zoë ✓", "n": [1, 2]})
    await store.index_put("ix:ü/1", "r_x", -0.25, {})
    entries = await store.index_range("ix:ü/1")
    assert entries == [
        IndexEntry("r_x", -0.25, {}),
        IndexEntry("r_ü", created, {"title": "Zoë ✓", "n": [1, 2]}),
    ]


# --- whole-store passes ----------------------------------------------------------------


async def test_all_records_reads_every_record_of_a_kind(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    for i in range(1200):  # more than one page in every backend
        await store.put_record("person", f"pe_{i:04d}", {"n": i}, f"t{i % 3}")
    await store.put_record("team", "t0", {"id": "t0"})
    await store.put_record("person-name", "t0:ann", {"person_id": "pe_0001"}, "t0")
    found = [item async for item in store.all_records("person")]
    assert len(found) == 1200
    assert dict(found) == {f"pe_{i:04d}": {"n": i} for i in range(1200)}
    assert [item async for item in store.all_records("team")] == [("t0", {"id": "t0"})]
    assert [item async for item in store.all_records("person-name")] == [
        ("t0:ann", {"person_id": "pe_0001"})
    ]
    assert [item async for item in store.all_records("nothing")] == []


async def stock_review(store: Storage, review_id: str) -> None:
    await store.put_record("review", review_id, {"id": review_id}, review_id)
    await store.put_record("invite", f"{review_id}-i", {"code": "i"}, review_id)
    await store.put_record("action-state", f"{review_id}.a1", {"gid": "a1"}, review_id)
    for doc in ("timeline", "recap"):
        await store.append_update(f"{review_id}/{doc}", f"{review_id}-{doc}".encode())
    await store.compact(
        f"{review_id}/recap", b"snapshot", (await store.load_doc(f"{review_id}/recap")).position
    )
    await store.cast_vote(f"{review_id}/factors", "ann", "n1", 3)


async def test_purge_review_removes_exactly_that_review(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    for review_id in ("r_1", "r_10", "r%1", "r_1x"):
        await stock_review(store, review_id)
    await store.put_record("team", "t1", {"id": "t1"})
    await store.put_record("person", "pe_1", {"id": "pe_1"}, "t1")
    await store.put_record("review", "r_1/odd", {"id": "other"})  # no group: not the review's
    await store.index_put("team/t1/reviews", "r_1", 1.0, {})

    await store.purge_review("r_1")

    assert await store.get_record("review", "r_1") is None
    assert await store.get_record("invite", "r_1-i") is None
    assert await store.get_record("action-state", "r_1.a1") is None
    assert await store.list_records("invite", "r_1") == []
    for doc in ("r_1/timeline", "r_1/recap"):
        gone = await store.load_doc(doc)
        assert gone.snapshot is None and gone.updates == []
    assert await store.tally("r_1/factors") == {}
    assert await store.votes_of("r_1/factors", "ann") == {}
    # Nothing of the other reviews, whose ids share a prefix or hold LIKE wildcards.
    for other in ("r_10", "r%1", "r_1x"):
        assert await store.get_record("review", other) == {"id": other}
        assert [r["code"] for r in await store.list_records("invite", other)] == ["i"]
        assert await store.get_record("action-state", f"{other}.a1") == {"gid": "a1"}
        assert (await store.load_doc(f"{other}/timeline")).updates == [f"{other}-timeline".encode()]
        assert (await store.load_doc(f"{other}/recap")).snapshot == b"snapshot"
        assert await store.tally(f"{other}/factors") == {"n1": 1}
    assert await store.get_record("team", "t1") == {"id": "t1"}
    assert await store.list_records("person", "t1") == [{"id": "pe_1"}]
    assert await store.get_record("review", "r_1/odd") == {"id": "other"}
    assert await store.index_count("team/t1/reviews") == 1  # indexes are the caller's
    await store.purge_review("r_1")  # idempotent
    await store.purge_review("never-was")


# --- schema version --------------------------------------------------------------------


async def test_schema_version_starts_at_one_and_is_kept(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    assert await schema_version(store) == 1  # data from before versions were kept
    await set_schema_version(store, 2)
    assert await schema_version(store) == 2
    await store.close()
    again = await opened(make_store)
    assert await schema_version(again) == 2
    with pytest.raises(ValueError):
        await set_schema_version(again, 0)
