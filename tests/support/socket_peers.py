"""Peers over real TCP sockets on localhost: the server side a FrameWriter over a
plain asyncio transport, the client side a raw socket to read what was sent."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

from debrief.rooms import Peer


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


@contextlib.asynccontextmanager
async def socket_pairs(count: int) -> AsyncIterator[list[Pair]]:
    """``count`` connected pairs, closed on the way out."""
    loop = asyncio.get_running_loop()
    accepted: asyncio.Queue[asyncio.Transport] = asyncio.Queue()

    class Accept(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.put_nowait(transport)  # type: ignore[arg-type]

    server = await loop.create_server(Accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    made: list[Pair] = []
    try:
        for _ in range(count):
            client = socket.socket()
            client.setblocking(False)
            await loop.sock_connect(client, ("127.0.0.1", port))
            made.append(Pair(SocketWriter(await accepted.get()), client))
        yield made
    finally:
        for pair in made:
            pair.writer.transport.close()
            pair.client.close()
        server.close()
