"""A minimal websocket client on a bare asyncio Protocol, for the many listening clients.

Listeners only receive, so the cost per delivered frame is what limits how many clients one
generator process can simulate on a 2-core box. The ``websockets`` client spends most of its
time in its frame parser, queues and reader task; this protocol parses unmasked server frames
straight out of ``data_received`` and calls back synchronously (about a tenth of the CPU per
frame). Writers and verifying clients keep the full ``websockets`` client.

It speaks RFC 6455 as a client needs to: the upgrade handshake (the accept key is checked),
binary/text frames with continuation, ping -> pong, close -> close reply. Frames it sends are
masked, serialized by ``websockets``' own (C-accelerated) frame code.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

from websockets.frames import Close, Frame, Opcode

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class RawWebSocket(asyncio.Protocol):
    """One client connection; ``on_message(payload, arrival_ns)`` runs for each message."""

    def __init__(
        self, on_message: Callable[[bytes, int], None], on_close: Callable[[str], None]
    ) -> None:
        self.on_message = on_message
        self.on_close = on_close
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed = False
        self._buf = bytearray()
        self._handshake_done = False
        self._expect_accept = b""
        self._fragments: list[bytes] = []

    @classmethod
    async def open(
        cls,
        url: str,
        headers: dict[str, str],
        on_message: Callable[[bytes, int], None],
        on_close: Callable[[str], None],
        timeout_s: float,
    ) -> RawWebSocket:
        parts = urlsplit(url)
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout_s):
            _, proto = await loop.create_connection(
                lambda: cls(on_message, on_close), parts.hostname or "127.0.0.1", parts.port or 80
            )
            proto._request(parts.netloc, parts.path or "/", headers)
            await proto.opened
        return proto

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        was_closed = self.closed
        self.closed = True
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"connection lost in handshake: {exc}"))
        elif not was_closed:
            self.on_close(f"connection lost: {exc}")

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        buf = self._buf
        buf += data
        if not self._handshake_done:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self._check_handshake(bytes(buf[:end]))
            del buf[: end + 4]
            if self.closed:
                return
        self._parse(now)

    # -- internals --------------------------------------------------------------------------

    def _request(self, host: str, path: str, headers: dict[str, str]) -> None:
        key = base64.b64encode(os.urandom(16))
        self._expect_accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        assert self.transport is not None
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def _check_handshake(self, head: bytes) -> None:
        status, _, rest = head.partition(b"\r\n")
        accept = b""
        for line in rest.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-accept":
                accept = value.strip()
        if b" 101 " not in status + b" " or accept != self._expect_accept:
            self.opened.set_exception(ConnectionError(f"handshake refused: {status[:80]!r}"))
            self._abort()
            return
        self._handshake_done = True
        self.opened.set_result(None)

    def _parse(self, now: int) -> None:
        buf = self._buf
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                head = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                head = 10
            if b1 & 0x80:  # servers never mask
                self._abort()
                return
            end = pos + head + length
            if end > size:
                break
            payload = bytes(buf[pos + head : end])
            pos = end
            self._frame(b0 & 0x80, b0 & 0x0F, payload, now)
            if self.closed:
                return
        if pos:
            del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes, now: int) -> None:
        if opcode in (1, 2, 0):
            if not fin:
                self._fragments.append(payload)
                return
            if self._fragments:
                payload = b"".join([*self._fragments, payload])
                self._fragments.clear()
            self.on_message(payload, now)
        elif opcode == 9:
            self._write(Frame(Opcode.PONG, payload))
        elif opcode == 8:
            close = Close.parse(payload) if payload else None
            self._write(Frame(Opcode.CLOSE, payload[:2]))
            self.closed = True
            self.on_close(f"closed by server: {close}")
            if self.transport is not None:
                self.transport.close()

    def _write(self, frame: Frame) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame.serialize(mask=True, extensions=[]))

    def _abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # -- public -------------------------------------------------------------------------------

    def send(self, message: bytes) -> None:
        """Send one binary message (never blocks; asyncio buffers)."""
        if not self.closed:
            self._write(Frame(Opcode.BINARY, message))

    def close(self) -> None:
        """Send a normal close and drop the connection."""
        if not self.closed:
            self._write(Frame(Opcode.CLOSE, (1000).to_bytes(2, "big")))
            self.closed = True
            if self.transport is not None:
                self.transport.close()
