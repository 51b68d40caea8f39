"""An unloaded room is freed by reference counting alone (issue 14, item 4).

Peers come, sync, write and leave; the room is unloaded; a weak reference to it (and
to each peer) must be dead at once, with the cycle collector switched off for the
whole test: anything the room holds that leads back to it (a cancelled task's
traceback, a callback bound to the room) would keep it, and every write session's
doc, until some later collection.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pycrdt import Doc, Map, TransactionEvent

from debrief.metrics import Metrics
from debrief.protocol import parse_frame, sync_step1_frame, update_frame
from debrief.rooms import Peer, Room
from debrief.rooms.manager import RoomManager
from debrief.storage.sqlite import SQLiteStorage


class Inbox:
    """A transport that keeps what the server sends it (the queued path of a peer)."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    async def send(self, data: bytes) -> None:
        self.frames.append(data)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def abort(self) -> None:
        self.closed = self.closed or (1006, "aborted")


@pytest.fixture
def no_cycle_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.fixture
def storage(sqlite_store: SQLiteStorage) -> SQLiteStorage:
    return sqlite_store


def timeline_event(doc: Doc[Any], number: int, by: str) -> None:
    """A valid timeline event (docs/shared-docs.md) written by participant ``by``."""
    doc.get("events", type=Map)[f"e{number}"] = Map(
        {
            "id": f"e{number}",
            "time": "2025-03-01T09:14:00Z",
            "text": f"step {number}",
            "source": "alert",
            "link": "",
            "markers": [],
            "created_ms": 1_700_000_000_000,
            "by": by,
        }
    )


async def session(
    room: Room, number: int, leave: Callable[[Room, Peer], None]
) -> weakref.ref[Peer]:
    """One client joins ``room``, syncs, writes an event and leaves (``leave``)."""
    by = f"p-{number}"
    peer = Peer(Inbox(), writable=True, user={"id": by, "name": by, "role": "participant"})
    peer.start()
    room.add_peer(peer)
    client: Doc[Any] = Doc()
    await room.handle(peer, parse_frame(sync_step1_frame(client.get_state())))
    updates: list[bytes] = []

    def collect(event: TransactionEvent) -> None:
        updates.append(event.update)

    subscription = client.observe(collect)
    timeline_event(client, number, by)
    client.unobserve(subscription)
    for update in updates:
        await room.handle(peer, parse_frame(update_frame(update)))
    assert f"e{number}" in room.doc.get("events", type=Map)  # written and applied
    leave(room, peer)
    await peer.stop()
    return weakref.ref(peer)


@pytest.mark.parametrize("doc", ["timeline", "room"])
async def test_a_closed_room_is_freed_without_the_cycle_collector(
    storage: SQLiteStorage, no_cycle_collector: None, doc: str
) -> None:
    room = Room(f"r1/{doc}", storage, Metrics(), compact_every=2)
    await room.load()
    room.start()
    peers = [await session(room, n, Room.remove_peer) for n in range(3)]
    await room.close()
    freed = weakref.ref(room)
    del room
    assert freed() is None, "the unloaded room is kept alive by a reference cycle"
    assert all(peer() is None for peer in peers), "a peer is kept alive by a reference cycle"


async def test_the_managers_unload_frees_each_sessions_room(
    storage: SQLiteStorage, no_cycle_collector: None
) -> None:
    """Write sessions one after another: each loads the doc's room, and the grace-period
    unload after it (timer, task, callbacks) leaves nothing holding that room."""
    rooms = RoomManager(storage, Metrics(), unload_grace_s=0.0)
    loaded: list[weakref.ref[Room]] = []
    peers: list[weakref.ref[Peer]] = []
    for n in range(3):
        # Waits for the previous session's unload in flight, then loads a new room.
        room = await rooms.acquire("r1/timeline")
        assert all(room is not old() for old in loaded)
        loaded.append(weakref.ref(room))
        peers.append(await session(room, n, rooms.release))
        del room
    last = await rooms.acquire("r1/timeline")
    assert len(last.doc.get("events", type=Map)) == 3  # every session's write was kept
    assert all(room() is None for room in loaded), "an unloaded room is kept by a cycle"
    assert all(peer() is None for peer in peers), "a peer is kept alive by a reference cycle"
    await rooms.shutdown()
