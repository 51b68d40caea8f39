"""http/ws_protocol.py under a real uvicorn: messages in order through its inbox, pings
from the shared wheel answered or not (1011), and a close that the app starts."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from websockets.frames import Close, Frame, Opcode

from debrief.http.ws_protocol import LeanWebSocketProtocol
from support.server import free_port


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echoes each binary message after a loop turn (so later ones wait in the inbox);
    b"close" makes it close with 4000."""
    if scope["type"] != "websocket":
        return
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await asyncio.sleep(0)
        if message["bytes"] == b"close":
            await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
            continue
        await send({"type": "websocket.send", "bytes": message["bytes"]})


@pytest.fixture
async def server() -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(
        echo_app,
        host="127.0.0.1",
        port=port,
        ws=LeanWebSocketProtocol,
        ws_ping_interval=0.2,
        ws_ping_timeout=0.2,
        lifespan="off",
        log_level="warning",
    )
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # uvicorn offers no event to wait on
        assert not task.done(), "server did not start"
        await asyncio.sleep(0.02)
    yield port
    srv.should_exit = True
    await task


class RawClient:
    """A websocket client that shows every frame, pings included."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    def send(self, opcode: Opcode, data: bytes) -> None:
        self.writer.write(Frame(opcode, data).serialize(mask=True, extensions=[]))

    async def frame(self) -> tuple[Opcode, bytes]:
        b0, b1 = await self.reader.readexactly(2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(await self.reader.readexactly(2), "big")
        elif length == 127:
            length = int.from_bytes(await self.reader.readexactly(8), "big")
        return Opcode(b0 & 0x0F), await self.reader.readexactly(length)

    async def closed(self) -> bool:
        return await self.reader.read(1) == b""


async def test_messages_arrive_in_order_while_the_app_is_busy(server: int) -> None:
    client = await RawClient.open(server)
    for i in range(50):  # one write: the app is still busy with the first
        client.send(Opcode.BINARY, f"m{i}".encode())
    echoed = []
    while len(echoed) < 50:
        opcode, data = await client.frame()
        if opcode is Opcode.PING:
            client.send(Opcode.PONG, data)
        else:
            echoed.append(data)
    assert echoed == [f"m{i}".encode() for i in range(50)]


async def test_pings_answered_keep_the_connection(server: int) -> None:
    client = await RawClient.open(server)
    pings = 0
    while pings < 3:  # three rounds of the wheel, each answered
        opcode, data = await client.frame()
        assert opcode is Opcode.PING
        client.send(Opcode.PONG, data)
        pings += 1
    client.send(Opcode.BINARY, b"still here")
    while (frame := await client.frame())[0] is Opcode.PING:
        client.send(Opcode.PONG, frame[1])
    assert frame == (Opcode.BINARY, b"still here")


async def test_an_unanswered_ping_closes_with_1011(server: int) -> None:
    client = await RawClient.open(server)
    opcode, _ = await client.frame()
    assert opcode is Opcode.PING  # not answered
    opcode, data = await client.frame()
    assert opcode is Opcode.CLOSE
    assert Close.parse(data).code == 1011
    assert await client.closed()


async def test_a_close_from_the_app_is_answered_and_ends_the_connection(server: int) -> None:
    client = await RawClient.open(server)
    client.send(Opcode.BINARY, b"close")
    while (frame := await client.frame())[0] is Opcode.PING:
        client.send(Opcode.PONG, frame[1])
    assert frame[0] is Opcode.CLOSE
    assert Close.parse(frame[1]) == Close(4000, "bye")
    client.send(Opcode.CLOSE, frame[1][:2])
    assert await client.closed()
