"""A compaction that fails never leaves a doc unusable (issue 14, item 2): the log stays
as it was, the room goes on taking writes, and the doc loads whole afterwards.

The failure is injected at the storage interface (SQLite's "string or blob too big" is
what a doc past ~1 GB used to hit; the doc size bound keeps a real one from happening)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map, TransactionEvent

from debrief.metrics import Metrics
from debrief.protocol import parse_frame, update_frame
from debrief.rooms import Peer, Room
from debrief.storage.base import StorageError
from debrief.storage.sqlite import SQLiteStorage


class CompactionFails(SQLiteStorage):
    """Real SQLite, except that compaction fails the way an oversized blob did."""

    failures = 0

    async def compact(self, key: str, snapshot: bytes, upto: str) -> bool:
        self.failures += 1
        raise StorageError("sqlite: string or blob too big")


class Inbox:
    def __init__(self) -> None:
        self.frames: list[bytes] = []

    async def send(self, data: bytes) -> None:
        self.frames.append(data)

    async def close(self, code: int, reason: str) -> None:
        self.frames.append(b"closed")

    def abort(self) -> None:
        pass


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[CompactionFails]:
    store = CompactionFails(tmp_path / "debrief.sqlite")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def write(room: Room, peer: Peer, client: Doc[Any], key: str) -> None:
    updates: list[bytes] = []

    def collect(event: TransactionEvent) -> None:
        updates.append(event.update)

    subscription = client.observe(collect)
    client.get("m", type=Map)[key] = "value " + key
    client.unobserve(subscription)
    for update in updates:
        await room.handle(peer, parse_frame(update_frame(update)))


async def test_a_failed_compaction_keeps_the_room_and_its_log(
    storage: CompactionFails, tmp_path: Path
) -> None:
    room = Room("r1/timeline", storage, Metrics(), compact_every=3)
    await room.load()
    room.start()
    peer = Peer(Inbox(), writable=True, user={"id": "p1", "name": "Ana", "role": "participant"})
    peer.start()
    room.add_peer(peer)
    client: Doc[Any] = Doc()
    for n in range(10):  # past the compaction point three times over
        await write(room, peer, client, f"k{n}")
    await room.close()  # compacts once more on the way out: fails again
    assert storage.failures >= 1
    assert room.failed == "r1/timeline was unloaded"  # not a storage failure
    assert b"closed" not in peer.transport.frames  # type: ignore[attr-defined]
    await peer.stop()

    # Every update is still in the log, and the doc loads whole.
    again = Room("r1/timeline", storage, Metrics())
    await again.load()
    assert len(again.doc.get("m", type=Map)) == 10
    await again.close()
