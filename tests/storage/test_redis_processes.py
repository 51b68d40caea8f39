"""Redis backend across processes: two RedisStorage instances stand for two servers."""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Doc, Map

from debrief.storage.redis import RedisStorage

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def two(two_redis: tuple[RedisStorage, RedisStorage]) -> tuple[RedisStorage, RedisStorage]:
    return two_redis


async def test_votes_of_one_voter_over_two_processes_never_exceed_the_limit(
    two: tuple[RedisStorage, RedisStorage],
) -> None:
    results = await asyncio.gather(
        *(two[i % 2].cast_vote("r1/factors", "alice", f"note{i % 5}", 3) for i in range(80))
    )
    assert sum(r.done for r in results) == 3
    assert sum((await two[0].votes_of("r1/factors", "alice")).values()) == 3
    assert sum((await two[1].tally("r1/factors")).values()) == 3


async def test_two_compactors_only_ever_advance(two: tuple[RedisStorage, RedisStorage]) -> None:
    doc: Doc = Doc()
    updates = []
    for i in range(20):
        with doc.new_transaction():
            doc.get("m", type=Map)[f"k{i}"] = i
        updates.append(doc.get_update())
    positions = [await two[i % 2].append_update("d", u) for i, u in enumerate(updates)]
    early, late = positions[9], positions[19]
    results = await asyncio.gather(
        two[0].compact("d", updates[19], late), two[1].compact("d", updates[9], early)
    )
    loaded = await two[1].load_doc("d")
    if results[1]:  # the early one ran first; the late one still advanced past it
        assert results[0]
    assert loaded.snapshot == updates[19]
    assert loaded.updates == []
    assert loaded.position == late
    # entries are tagged with the process that wrote them (the relay skips its own)
    client = two[0].client
    entries = await client.xrange(two[0].log_key("d"))
    nodes = {fields[b"n"].decode() for _, fields in entries}
    assert nodes <= {two[0].node_id, two[1].node_id}
