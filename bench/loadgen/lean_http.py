"""A lean keep-alive HTTP/1.1 client on a bare asyncio Protocol, for command load.

httpx spends far more CPU per request than the servers it drives here; this client writes
pre-built request bytes and parses only what a JSON API answers with (a status line,
headers, a ``Content-Length`` or chunked body), so the load generator is not what limits
the requests per second. One request at a time per connection (no pipelining), as a
browser's keep-alive connection does.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, cast


class HttpError(Exception):
    """The connection broke or the server answered something this client cannot parse."""


def build_request(method: str, path: str, host: str, token: str = "", body: Any = None) -> bytes:
    """The request's bytes, ready to send again and again (keep-alive)."""
    data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None:
        lines.append("Content-Type: application/json")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


class LeanHttp(asyncio.Protocol):
    """One keep-alive connection; :meth:`request` sends one request and awaits its answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._status = 0
        self._body_at = -1  # offset of the body in _buf once the head is parsed
        self._length = -1
        self._chunked = False
        self.closed = False
        self.idle_since = time.monotonic()

    @classmethod
    async def open(cls, host: str, port: int, timeout_s: float = 30.0) -> LeanHttp:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout_s):
            _, proto = await loop.create_connection(cls, host, port)
        return proto

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(HttpError(f"connection lost: {exc}"))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._waiter is None or self._waiter.done():
            return
        try:
            done = self._parse()
        except (ValueError, HttpError) as exc:
            self._waiter.set_exception(HttpError(str(exc)))
            return
        if done is not None:
            self.idle_since = time.monotonic()
            self._waiter.set_result(done)

    # -- public -------------------------------------------------------------------------

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send ``raw`` (from :func:`build_request`); the answer's status and body."""
        if self.closed or self.transport is None:
            raise HttpError("connection closed")
        self._waiter = asyncio.get_running_loop().create_future()
        self._status, self._body_at, self._length, self._chunked = 0, -1, -1, False
        self.transport.write(raw)
        return await self._waiter

    def stale(self, max_idle_s: float) -> bool:
        """Closed, or idle so long that the server may be closing it this moment: a
        request sent then is lost (and the client cannot tell whether it was done)."""
        return self.closed or time.monotonic() - self.idle_since > max_idle_s

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- parsing ------------------------------------------------------------------------

    def _parse(self) -> tuple[int, bytes] | None:
        buf = self._buf
        if self._body_at < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            head = bytes(buf[:end]).split(b"\r\n")
            self._status = int(head[0].split(b" ", 2)[1])
            for line in head[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    self._length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    self._chunked = True
            self._body_at = end + 4
        if self._chunked:
            return self._parse_chunked()
        length = max(0, self._length)
        if len(buf) - self._body_at < length:
            return None
        body = bytes(buf[self._body_at : self._body_at + length])
        del buf[: self._body_at + length]
        return self._status, body

    def _parse_chunked(self) -> tuple[int, bytes] | None:
        buf = self._buf
        pos = self._body_at
        parts: list[bytes] = []
        while True:
            line_end = buf.find(b"\r\n", pos)
            if line_end < 0:
                return None
            size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
            start = line_end + 2
            if len(buf) < start + size + 2:
                return None
            if size == 0:
                del buf[: start + 2]
                return self._status, b"".join(parts)
            parts.append(bytes(buf[start : start + size]))
            pos = start + size + 2
