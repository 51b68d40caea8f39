"""A deadline for request headers, which uvicorn does not have (slow-loris).

uvicorn's HTTP protocol waits for request headers as long as the client likes: its
keep-alive timer only runs between requests and is cancelled by the first byte of the
next one. A client could hold thousands of sockets open by sending a partial request
line and a byte now and then. Here every request (the first of a connection from when
it is accepted, later ones from their first byte) must complete its headers within
``timeout`` seconds, or it gets a 408 and the connection is closed. Websocket upgrades
are covered too: their headers are an HTTP request; after the upgrade, websocket pings
take over.

Built on uvicorn's httptools protocol (installed with uvicorn[standard]); passed to
``uvicorn.Config(http=...)`` in cli.py.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TIMEOUT_BODY = json.dumps(
    {"error": "request_timeout", "detail": "the request headers took too long to arrive"}
).encode()
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"content-length: " + str(len(TIMEOUT_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + TIMEOUT_BODY
)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers."""

    header_timeout = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # a later request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        transport = self.transport
        if transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            transport.write(TIMEOUT_RESPONSE)  # not in the middle of another response
        transport.close()


def header_deadline_protocol(timeout: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class for uvicorn with headers due within ``timeout`` seconds."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": timeout})
