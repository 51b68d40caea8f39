"""Presence between processes over pub/sub (storage/redis_relay.py), on a real Redis:
two relays stand for two server processes, with rooms that record what they hear.

- a change published by one process reaches the other's room, and not its own;
- a change made while a room attaches (after it subscribed, before its snapshot was
  applied) is applied after the snapshot, so a removal is not undone by it;
- a room attached again keeps its channel when the older link closes, and the last
  one to close leaves the channel;
- a subscriber connection cut by Redis fails every room of that process (they reload
  with their peers), and rooms attached afterwards hear again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from debrief.protocol.awareness import AwarenessEntry
from debrief.storage.redis import RedisStorage
from debrief.storage.redis_relay import RedisLink, RedisRelay

WAIT_S = 10.0


class FakeRoom:
    """What the relay needs of a room, keeping the remote presence it was shown (by
    node and client id; a newer clock wins, a removal removes)."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.states: dict[tuple[str, int], tuple[int, Any]] = {}
        self.failed: list[str] = []
        self.changed = asyncio.Event()

    def apply_remote(self, update: bytes) -> None:
        pass

    def remote_awareness(self, node: str, entries: list[AwarenessEntry]) -> None:
        for entry in entries:
            known = self.states.get((node, entry.client_id))
            if entry.state is None:
                self.states.pop((node, entry.client_id), None)
            elif known is None or entry.clock > known[0]:
                self.states[(node, entry.client_id)] = (entry.clock, entry.state)
        self.changed.set()

    def drop_remote_node(self, node: str) -> None:
        pass

    def fail(self, reason: str) -> None:
        self.failed.append(reason)
        self.changed.set()

    async def until(self, done: Callable[[], bool]) -> None:
        async with asyncio.timeout(WAIT_S):
            while not done():
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def relays(
    two_redis: tuple[RedisStorage, RedisStorage],
) -> AsyncIterator[tuple[RedisRelay, RedisRelay]]:
    pair = (RedisRelay(two_redis[0]), RedisRelay(two_redis[1]))
    for relay in pair:
        await relay.start()
    try:
        yield pair
    finally:
        for relay in pair:
            await relay.stop()


def entry(client_id: int, clock: int, state: dict[str, Any] | None) -> AwarenessEntry:
    return AwarenessEntry(client_id, clock, state)


async def attach(relay: RedisRelay, room: FakeRoom) -> RedisLink:
    link = await relay.attach(room, "0-0")
    assert isinstance(link, RedisLink)
    return link


async def subscribers(relay: RedisRelay, channel: str) -> int:
    flat = await relay.storage.resp.call("PUBSUB", "NUMSUB", channel)
    return int(flat[1])


async def test_presence_reaches_the_other_process_only(
    relays: tuple[RedisRelay, RedisRelay],
) -> None:
    a, b = relays
    room_a, room_b = FakeRoom("r1/room"), FakeRoom("r1/room")
    link_a = await attach(a, room_a)
    await attach(b, room_b)
    link_a.publish_awareness([entry(7, 1, {"cursor": 3})])
    await room_b.until(lambda: (a.node, 7) in room_b.states)
    assert room_b.states[(a.node, 7)] == (1, {"cursor": 3})
    # a later joiner starts from the hash
    room_c = FakeRoom("r1/room")
    c = RedisRelay(b.storage)
    await c.start()
    try:
        await attach(c, room_c)
        assert room_c.states[(a.node, 7)] == (1, {"cursor": 3})
    finally:
        await c.stop()
    link_a.publish_awareness([entry(7, 2, None)])
    await room_b.until(lambda: (a.node, 7) not in room_b.states)
    await a.presence_sent()
    assert room_a.states == {}  # its own messages came back and were skipped


async def test_a_change_while_attaching_is_applied_after_the_snapshot(
    relays: tuple[RedisRelay, RedisRelay],
) -> None:
    a, b = relays
    room_a = FakeRoom("r2/room")
    link_a = await attach(a, room_a)
    link_a.publish_awareness([entry(9, 1, {"cursor": 1})])
    await a.presence_sent()

    room_b = FakeRoom("r2/room")
    resp = b.storage.resp
    real_call = resp.call

    async def snapshot_then_removal(*args: Any) -> Any:
        """The snapshot is read with client 9 in it; the removal is published and heard
        by b before b has applied that snapshot."""
        found = await real_call(*args)
        if args[0] == "HGETALL":
            link_a.publish_awareness([entry(9, 2, None)])
            link_b = b.links.get("r2/room")
            assert link_b is not None
            heard = asyncio.Event()
            hear = link_b.hear

            def hear_and_tell(node: str, payload: bytes) -> None:
                hear(node, payload)
                heard.set()

            link_b.hear = hear_and_tell  # type: ignore[method-assign]
            async with asyncio.timeout(WAIT_S):
                await heard.wait()
            assert link_b.held_back  # heard before the snapshot was applied: held back
        return found

    resp.call = snapshot_then_removal  # type: ignore[method-assign]
    try:
        await attach(b, room_b)
    finally:
        del resp.call
    assert room_b.states == {}  # the snapshot showed 9; the removal after it took it away


async def test_the_channel_stays_while_a_room_of_it_is_attached(
    relays: tuple[RedisRelay, RedisRelay],
) -> None:
    a, b = relays
    old_room, new_room = FakeRoom("r3/room"), FakeRoom("r3/room")
    old = await attach(b, old_room)
    new = await attach(b, new_room)  # attached again (a reload): it replaces the old link
    channel = new.channel
    await old.close()
    assert await subscribers(a, channel) == 1
    sender = await attach(a, FakeRoom("r3/room"))
    sender.publish_awareness([entry(4, 1, {"cursor": 8})])
    await new_room.until(lambda: (a.node, 4) in new_room.states)
    assert old_room.states == {}
    await new.close()
    assert await subscribers(a, channel) == 1  # a's own room, not b's any more


async def test_a_lost_subscriber_fails_the_rooms_and_the_next_ones_hear_again(
    relays: tuple[RedisRelay, RedisRelay],
) -> None:
    a, b = relays
    room_b = FakeRoom("r4/room")
    await attach(b, room_b)
    sender = await attach(a, FakeRoom("r4/room"))
    protocol = b._subscriber._protocol
    assert protocol is not None and protocol.transport is not None
    host, port = protocol.transport.get_extra_info("sockname")[:2]
    killed = await a.storage.resp.call("CLIENT", "KILL", "ADDR", f"{host}:{port}")
    assert killed == 1
    await room_b.until(lambda: bool(room_b.failed))
    assert "lost redis" in room_b.failed[0]
    assert b.links.get("r4/room") is None

    again = FakeRoom("r4/room")
    await attach(b, again)
    sender.publish_awareness([entry(5, 1, {"cursor": 2})])
    await again.until(lambda: (a.node, 5) in again.states)


async def test_a_bad_entry_in_the_presence_hash_is_skipped(
    relays: tuple[RedisRelay, RedisRelay],
) -> None:
    a, b = relays
    sender = await attach(a, FakeRoom("r5/room"))
    sender.publish_awareness([entry(3, 1, {"cursor": 1})])
    await a.presence_sent()
    resp = a.storage.resp
    for field, raw in ((f"{a.node}:4", "{not json"), (f"{a.node}:5", '{"clock": 1}'),
                       (f"{a.node}:6", '{"clock": "x", "state": {}}'),
                       (f"{a.node}:7", '{"clock": 2, "state": [1]}')):  # fmt: skip
        await resp.call("HSET", sender.presence_key, field, raw)
    room = FakeRoom("r5/room")
    await attach(b, room)
    assert room.states == {(a.node, 3): (1, {"cursor": 1})}
