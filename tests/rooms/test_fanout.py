"""rooms/fanout.py over real TCP sockets: the direct write, a full socket, a closing peer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from debrief.rooms import Peer
from debrief.rooms.fanout import broadcast
from debrief.rooms.peer import binary_frame_wire


class SocketWriter:
    """The FrameWriter side of a peer over a plain asyncio transport (what
    http/websocket.py's RawFrameTransport does over uvicorn's)."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.through_transport = 0

    def write_wire(self, wire: bytes) -> bool:
        if self.transport.is_closing():
            return False
        self.through_transport += 1
        self.transport.write(wire)
        return True

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size()

    def direct_fd(self) -> int:
        if self.transport.is_closing() or self.transport.get_write_buffer_size():
            return -1
        return int(self.transport.get_extra_info("socket").fileno())

    async def send(self, data: bytes) -> None:
        raise AssertionError("fast-path peers never use the queued send")

    async def close(self, code: int, reason: str) -> None:
        self.transport.close()

    def abort(self) -> None:
        self.transport.abort()


class Pair:
    """A connected server-side transport and the raw client socket reading it."""

    def __init__(self, writer: SocketWriter, client: socket.socket) -> None:
        self.writer = writer
        self.client = client
        self.peer = Peer(writer, writable=True, user={})  # type: ignore[arg-type]

    async def read_exactly(self, size: int) -> bytes:
        loop = asyncio.get_running_loop()
        chunks = bytearray()
        while len(chunks) < size:
            chunk = await loop.sock_recv(self.client, size - len(chunks))
            assert chunk, "connection closed early"
            chunks += chunk
        return bytes(chunks)


@pytest.fixture
async def pairs() -> AsyncIterator[list[Pair]]:
    loop = asyncio.get_running_loop()
    accepted: asyncio.Queue[asyncio.Transport] = asyncio.Queue()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.put_nowait(transport)  # type: ignore[arg-type]

    server = await loop.create_server(Accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    made: list[Pair] = []
    for _ in range(3):
        client = socket.socket()
        client.setblocking(False)
        await loop.sock_connect(client, ("127.0.0.1", port))
        made.append(Pair(SocketWriter(await accepted.get()), client))
    yield made
    for pair in made:
        pair.writer.transport.close()
        pair.client.close()
    server.close()


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
