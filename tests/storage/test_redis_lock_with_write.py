"""A lock's holder whose last write is a doc append or a vote lets the lock go in that
write's round trip (`release_lock_with_next_write`): a note on Redis is 3 round trips,
not 4, and a vote 3, not 5 (its answer's read of the voter's votes rides along too)."""

from __future__ import annotations

from typing import Any

import pytest

from debrief.storage.base import StorageError
from debrief.storage.redis import RedisStorage

UPDATE = b"\x00\x00"  # an empty Yjs update


def count_unlocks(store: RedisStorage, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The storage calls of ``store`` that are unlocks of their own, as they happen."""
    seen: list[str] = []
    call = store.call

    async def counted(operation: Any, what: str) -> Any:
        if what == "unlock":
            seen.append(what)
        return await call(operation, what)

    monkeypatch.setattr(store, "call", counted)
    return seen


async def lock_is_free(store: RedisStorage, name: str) -> bool:
    return not await store.client.exists(f"{store.prefix}lock:{name}")


async def test_the_last_append_lets_the_lock_go(
    two_redis: tuple[RedisStorage, RedisStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder, other = two_redis
    unlocks = count_unlocks(holder, monkeypatch)
    async with holder.lock("review:r1"):
        holder.release_lock_with_next_write()
        await holder.append_update("r1/room", UPDATE, [("note", "n1", {"id": "n1"}, "r1")])
        assert await lock_is_free(holder, "review:r1")  # gone with the append
        async with other.lock("review:r1"):  # another process gets it at once
            pass
    assert unlocks == []  # no round trip of its own on the way out
    assert await other.get_record("note", "n1") == {"id": "n1"}
    assert len((await other.load_doc("r1/room")).updates) == 1


async def test_without_the_promise_an_append_keeps_the_lock(
    two_redis: tuple[RedisStorage, RedisStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder, _ = two_redis
    unlocks = count_unlocks(holder, monkeypatch)
    async with holder.lock("review:r2"):
        await holder.append_update("r2/room", UPDATE)
        assert not await lock_is_free(holder, "review:r2")
    assert unlocks == ["unlock"]
    assert await lock_is_free(holder, "review:r2")


async def test_only_the_next_append_carries_it_and_a_failed_one_unlocks_on_the_way_out(
    two_redis: tuple[RedisStorage, RedisStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder, other = two_redis
    unlocks = count_unlocks(holder, monkeypatch)
    # The doc's log key holds a string: XADD fails with WRONGTYPE.
    await holder.client.set(holder.log_key("r3/room"), "not a stream")
    async with holder.lock("review:r3"):
        holder.release_lock_with_next_write()
        with pytest.raises(StorageError):
            await holder.append_update("r3/room", UPDATE)
    assert unlocks == ["unlock"]  # whether the failed trip let it go is unknown: again
    assert await lock_is_free(holder, "review:r3")
    async with other.lock("review:r3"):
        pass
    # Outside any lock the promise means nothing.
    holder.release_lock_with_next_write()
    await holder.append_update("r4/room", UPDATE)


async def test_a_vote_lets_the_lock_go_and_answers_in_the_same_trip(
    two_redis: tuple[RedisStorage, RedisStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder, other = two_redis
    unlocks = count_unlocks(holder, monkeypatch)
    async with holder.lock("review:v1"):
        holder.release_lock_with_next_write()
        cast = await holder.cast_vote("v1/factors", "ann", "n1", 1)
        assert cast.done and cast.mine == {"n1": 1}
        assert await lock_is_free(holder, "review:v1")
        async with other.lock("review:v1"):  # another process gets it at once
            pass
        # Only one write carries it: a later append under the same block does not.
        await holder.append_update("v1/room", UPDATE)
    assert unlocks == []
    assert await other.tally("v1/factors") == {"n1": 1}


async def test_a_refused_vote_lets_the_lock_go_too(
    two_redis: tuple[RedisStorage, RedisStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder, _ = two_redis
    unlocks = count_unlocks(holder, monkeypatch)
    async with holder.lock("review:v2"):
        holder.release_lock_with_next_write()
        nothing = await holder.retract_vote("v2/factors", "ann", "n1")
        assert not nothing.done and nothing.mine == {}
    assert unlocks == []
    assert await lock_is_free(holder, "review:v2")


async def test_a_failed_vote_unlocks_on_the_way_out(
    two_redis: tuple[RedisStorage, RedisStorage], monkeypatch: pytest.MonkeyPatch
) -> None:
    holder, other = two_redis
    unlocks = count_unlocks(holder, monkeypatch)
    # The voter's ballot key holds a string: the script fails with WRONGTYPE.
    await holder.client.set(f"{holder.prefix}vote:v3/factors:ann", "not a hash")
    async with holder.lock("review:v3"):
        holder.release_lock_with_next_write()
        with pytest.raises(StorageError):
            await holder.cast_vote("v3/factors", "ann", "n1", 3)
    assert unlocks == ["unlock"]
    assert await lock_is_free(holder, "review:v3")
    assert await other.tally("v3/factors") == {}  # the script failed before any write
