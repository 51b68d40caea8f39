"""Keepalive frames go out in batches with the event loop turning between them: with
thousands of sockets a pass in one go held up every command for ~40 ms."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from debrief.metrics import Metrics
from debrief.protocol import keepalive_frame
from debrief.rooms.manager import KEEPALIVE_BATCH, RoomManager
from debrief.rooms.peer import binary_frame_wire
from debrief.storage.sqlite import SQLiteStorage
from support.socket_peers import Pair, socket_pairs

PEERS = KEEPALIVE_BATCH * 3 + 7  # a few batches and a remainder, over several rooms


@pytest.fixture
async def rooms(tmp_path: Path) -> AsyncIterator[RoomManager]:
    store = SQLiteStorage(tmp_path / "rooms.sqlite3")
    await store.open()
    manager = RoomManager(store, Metrics())
    yield manager
    await manager.shutdown()
    await store.close()


def bytes_waiting(pair: Pair) -> bool:
    try:
        return bool(pair.client.recv(1, socket.MSG_PEEK))
    except BlockingIOError:
        return False


async def test_a_keepalive_pass_lets_the_loop_run_and_reaches_every_idle_peer(
    rooms: RoomManager,
) -> None:
    async with socket_pairs(PEERS) as pairs:
        for n, pair in enumerate(pairs):
            room = await rooms.acquire(f"r{n % 5}/room")
            room.add_peer(pair.peer)
        for pair in pairs:  # what joining sent (the room's sync step 1)
            while bytes_waiting(pair):
                pair.client.recv(65536)
        busy = pairs[0]
        busy.peer.last_sent = time.monotonic() + 60  # heard something since the cutoff
        progress: list[int] = []

        async def watch() -> None:
            while True:
                progress.append(sum(bytes_waiting(p) for p in pairs))
                await asyncio.sleep(0)

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0)
        sent = await rooms.send_keepalives(time.monotonic() + 1)
        watcher.cancel()

        assert sent == PEERS - 1
        # Another task ran while the pass was under way, not only before or after it.
        assert any(0 < seen < PEERS - 1 for seen in progress), progress
        wire = binary_frame_wire(keepalive_frame())
        for pair in pairs[1:]:
            assert await pair.read_exactly(len(wire)) == wire
        assert not bytes_waiting(busy)
        # They have just heard from us: the next pass with the same cutoff sends nothing.
        assert await rooms.send_keepalives(time.monotonic() - 1) == 0
