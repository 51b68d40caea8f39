"""The outbox on real storages (SQLite file, Redis): dedup, leases, retries, replay, log."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from debrief.delivery import keys, outbox
from debrief.storage import Storage
from debrief.storage.redis import RedisStorage
from debrief.storage.sqlite import SQLiteStorage
from support.scaleout import SHARED_REDIS, drop_prefix

RETRY = [60.0, 300.0]


@pytest.fixture(params=["sqlite", "redis"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    store: Storage
    if request.param == "sqlite":
        store = SQLiteStorage(tmp_path / "db.sqlite3")
    else:
        prefix = f"debrief-test-{secrets.token_hex(4)}:"
        store = RedisStorage(SHARED_REDIS, prefix=prefix)
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if request.param == "redis":
            drop_prefix(SHARED_REDIS, prefix)


def reminder(key: str = "due-soon:r1.a1:2026-12-01", to: str = "ana@example.org") -> dict:
    return {
        "team_id": "t_one",
        "event": "action-due-soon",
        "key": key,
        "channel": keys.EMAIL,
        "to": [to],
        "subject": "Due in 3 days: rotate keys",
        "text": "Rotate the signing keys.",
    }


async def test_same_reminder_is_queued_once(storage: Storage) -> None:
    assert await outbox.enqueue(storage, reminder())
    assert not await outbox.enqueue(storage, reminder())  # another process, same tick
    assert not await outbox.enqueue(storage, reminder(to="ANA@example.org "))  # same address
    assert await outbox.enqueue(storage, reminder(to="bo@example.org"))
    assert len(await outbox.due(storage, 10)) == 2
    with pytest.raises(ValueError):
        await outbox.enqueue(storage, {**reminder(), "to": []})
    with pytest.raises(ValueError):
        await outbox.enqueue(storage, {**reminder(), "channel": "fax"})


async def test_claim_lease_and_take_over(storage: Storage) -> None:
    await outbox.enqueue(storage, reminder())
    [delivery_id] = await outbox.due(storage, 10)
    claimed = await outbox.claim(storage, delivery_id, "node-a", 60_000)
    assert claimed is not None and claimed["state"] == keys.SENDING
    assert claimed["lease"]["node"] == "node-a"
    assert await outbox.due(storage, 10) == []  # held: nobody else sees it as due
    assert await outbox.claim(storage, delivery_id, "node-b", 60_000) is None
    # node-a dies: its lease runs out, and the delivery is due again for anyone.
    record = await outbox.get(storage, delivery_id)
    assert record is not None
    record["lease"]["until_ms"] = outbox.now_ms() - 1
    await storage.put_record(keys.DELIVERY, delivery_id, record, "t_one")
    await storage.index_put(keys.DUE_INDEX, delivery_id, record["lease"]["until_ms"], {})
    assert await outbox.due(storage, 10) == [delivery_id]
    taken = await outbox.claim(storage, delivery_id, "node-b", 60_000)
    assert taken is not None and taken["taken_over_from"] == "node-a"
    # node-a's late answer no longer counts: only the lease holder writes.
    assert await outbox.finish(storage, claimed, True, "late", RETRY) is None
    done = await outbox.finish(storage, taken, True, "accepted", RETRY)
    assert done is not None and done["state"] == keys.SENT
    assert [a["node"] for a in done["attempts"]] == ["node-b"]
    assert await outbox.due(storage, 10) == []


async def test_retries_with_backoff_then_dead_then_replay(storage: Storage) -> None:
    await outbox.enqueue(storage, reminder())
    [delivery_id] = await outbox.due(storage, 10)

    async def fail_now() -> dict:
        record = await outbox.get(storage, delivery_id)
        assert record is not None
        record["next_at_ms"] = outbox.now_ms() - 1  # as if the wait had passed
        await storage.put_record(keys.DELIVERY, delivery_id, record, "t_one")
        claimed = await outbox.claim(storage, delivery_id, "n", 60_000)
        assert claimed is not None
        done = await outbox.finish(storage, claimed, False, "HTTP 500", RETRY)
        assert done is not None
        return done

    first = await fail_now()
    assert first["state"] == keys.FAILED
    assert 59_000 <= first["next_at_ms"] - first["attempts"][-1]["at_ms"] <= 60_000
    assert await outbox.due(storage, 10) == []  # not before the minute has passed
    second = await fail_now()
    assert second["next_at_ms"] - second["attempts"][-1]["at_ms"] == 300_000
    third = await fail_now()
    assert third["state"] == keys.DEAD and len(third["attempts"]) == 3
    assert await outbox.due(storage, 10) == []

    replayed = await outbox.replay(storage, delivery_id)
    assert replayed["state"] == keys.QUEUED and replayed["replays"] == 1
    assert outbox.send_id(replayed) == f"{delivery_id}-r1"
    assert await outbox.due(storage, 10) == [delivery_id]
    with pytest.raises(outbox.OutboxError) as refused:
        await outbox.replay(storage, delivery_id)  # already waiting
    assert refused.value.status == 409
    with pytest.raises(outbox.OutboxError):
        await outbox.replay(storage, "nope")


async def test_permanent_failure_is_dead_at_once(storage: Storage) -> None:
    await outbox.enqueue(storage, reminder())
    [delivery_id] = await outbox.due(storage, 10)
    claimed = await outbox.claim(storage, delivery_id, "n", 60_000)
    assert claimed is not None
    done = await outbox.finish(storage, claimed, False, "550 no such user", RETRY, permanent=True)
    assert done is not None and done["state"] == keys.DEAD


async def test_log_is_newest_first_and_per_team(storage: Storage) -> None:
    for n in range(5):
        await outbox.enqueue(storage, {**reminder(key=f"k{n}"), "created_ms": 1000 + n})
    await outbox.enqueue(storage, {**reminder(key="other"), "team_id": "t_two"})
    items, total = await outbox.log(storage, "t_one", 1, 2)
    assert total == 5
    assert [i["created_ms"] for i in items] == [1003, 1002]
    assert items[0]["state"] == keys.QUEUED and items[0]["attempts"] == []
    assert (await outbox.log(storage, "t_two", 0, 10))[1] == 1


async def test_a_delivery_that_kills_its_senders_is_given_up(storage: Storage) -> None:
    await outbox.enqueue(storage, reminder())
    [delivery_id] = await outbox.due(storage, 10)
    for n in range(outbox.MAX_TAKEOVERS + 1):
        claimed = await outbox.claim(storage, delivery_id, f"node-{n}", 1)
        assert claimed is not None, n
        record = await outbox.get(storage, delivery_id)
        assert record is not None
        record["lease"]["until_ms"] = outbox.now_ms() - 1  # node-n died mid-send
        await storage.put_record(keys.DELIVERY, delivery_id, record, "t_one")
    assert await outbox.claim(storage, delivery_id, "last", 1) is None
    dead = await outbox.get(storage, delivery_id)
    assert dead is not None and dead["state"] == keys.DEAD
    assert "stopped" in dead["attempts"][-1]["detail"]
    assert await outbox.due(storage, 10) == []
