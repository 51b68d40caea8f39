"""rooms/fanout.py over real TCP sockets: the direct write, a full socket, a closing peer."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from debrief.rooms.fanout import broadcast
from debrief.rooms.peer import binary_frame_wire
from support.socket_peers import Pair, socket_pairs


@pytest.fixture
async def pairs() -> AsyncIterator[list[Pair]]:
    async with socket_pairs(3) as made:
        yield made


async def test_every_peer_gets_the_wire_bytes_straight_from_the_socket(pairs: list[Pair]) -> None:
    frame = b"\x00\x02" + bytes(range(200))
    wire = binary_frame_wire(frame)
    broadcast([p.peer for p in pairs], frame)
    for pair in pairs:
        assert await pair.read_exactly(len(wire)) == wire
        assert pair.writer.through_transport == 0  # the direct path took it


async def test_a_full_socket_gets_the_rest_through_its_transport_in_order(
    pairs: list[Pair],
) -> None:
    slow = pairs[0]
    slow.writer.transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
    )
    frames = [bytes([i]) * 50_000 for i in range(6)]  # far more than the socket holds
    for frame in frames:
        broadcast([p.peer for p in pairs], frame)
    assert slow.writer.through_transport > 0  # partial write, then buffered
    expected = b"".join(binary_frame_wire(f) for f in frames)
    for pair in pairs:
        assert await pair.read_exactly(len(expected)) == expected
    assert not any(p.peer.closed for p in pairs)


async def test_closing_and_closed_peers_are_skipped(pairs: list[Pair]) -> None:
    gone, closing, open_ = pairs
    gone.peer.closed = True
    closing.writer.transport.close()
    frame = b"\x00\x02hello"
    broadcast([p.peer for p in pairs], frame)
    wire = binary_frame_wire(frame)
    assert await open_.read_exactly(len(wire)) == wire
    assert closing.peer.closed  # write_wire refused: the peer knows it is done
    assert gone.writer.through_transport == 0
