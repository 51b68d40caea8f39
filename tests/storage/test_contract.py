"""The storage contract: every backend must pass every test here."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from pycrdt import Doc, Map, merge_updates

from debrief.storage.base import Storage
from debrief.storage.sqlite import SQLiteStorage

BackendFactory = Callable[[], Storage]


def sqlite_factory(tmp_path: Path) -> BackendFactory:
    path = tmp_path / "contract.sqlite3"
    return lambda: SQLiteStorage(path)


def redis_factory(tmp_path: Path) -> BackendFactory:
    from debrief.storage.redis import RedisStorage

    prefix = f"debrief-test-{secrets.token_hex(4)}:"
    return lambda: RedisStorage("redis://127.0.0.1:6379/0", prefix=prefix)


FACTORIES = {"sqlite": sqlite_factory, "redis": redis_factory}


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


def edit(doc: Doc, key: str, value: object) -> bytes:
    updates: list[bytes] = []
    sub = doc.observe(lambda event: updates.append(event.update))
    doc.get("m", type=Map)[key] = value
    doc.unobserve(sub)
    return updates[0]


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
    assert sum(results) == 3
    assert sum((await store.votes_of("r1/factors", "alice")).values()) == 3
    assert await store.cast_vote("r1/factors", "bob", "note1", 3)
    assert await store.cast_vote("r1/factors", "bob", "note1", 3)  # stacking is allowed
    tally = await store.tally("r1/factors")
    assert sum(tally.values()) == 5 and tally["note1"] >= 2
    assert await store.cast_vote("r1/other-section", "alice", "note1", 3)  # ballots are separate


async def test_retract_vote(make_store: BackendFactory) -> None:
    store = await opened(make_store)
    assert await store.cast_vote("b", "alice", "n1", 1)
    assert not await store.cast_vote("b", "alice", "n2", 1)
    assert await store.retract_vote("b", "alice", "n1")
    assert not await store.retract_vote("b", "alice", "n1")
    assert await store.tally("b") == {}
    assert await store.votes_of("b", "alice") == {}
    assert await store.cast_vote("b", "alice", "n2", 1)
    assert await store.tally("b") == {"n2": 1}


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
