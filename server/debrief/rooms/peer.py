"""One connected client: a bounded send queue drained by its own task.

Rooms hand every peer the same frame object; a peer that cannot keep up never delays
the others. Past the bound it is closed with 1013 and resyncs when it reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

CLOSE_TRY_AGAIN_LATER = 1013


class Transport(Protocol):
    async def send(self, data: bytes) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class Peer:
    def __init__(
        self,
        transport: Transport,
        *,
        writable: bool,
        user: dict[str, Any],
        session_id: str = "",
        queue_limit: int = 2048,
        on_slow: Callable[[], None] | None = None,
    ) -> None:
        self.transport = transport
        self.writable = writable
        self.user = user
        self.session_id = session_id
        self.queue_limit = queue_limit
        self.on_slow = on_slow
        self.closed = False
        self.close_code: int | None = None
        self.last_sent = time.monotonic()
        self._queue: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._drain())

    def send(self, frame: bytes) -> None:
        """Queue a frame; never blocks."""
        if self.closed:
            return
        if len(self._queue) >= self.queue_limit:
            self.close(CLOSE_TRY_AGAIN_LATER, "too far behind: reconnect to resync")
            if self.on_slow is not None:
                self.on_slow()
            return
        self._queue.append(frame)
        self._ready.set()

    @property
    def backlog(self) -> int:
        return len(self._queue)

    async def _drain(self) -> None:
        queue = self._queue
        try:
            while not self.closed:
                await self._ready.wait()
                self._ready.clear()
                while queue and not self.closed:
                    await self.transport.send(queue.popleft())
                self.last_sent = time.monotonic()
        except Exception:
            # The connection went away; the receive side notices and cleans up.
            self.closed = True

    def close(self, code: int, reason: str) -> None:
        """Close from the server side, at most once."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        self._queue.clear()
        self._ready.set()
        asyncio.get_running_loop().create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.transport.close(code, reason)

    async def stop(self) -> None:
        """Stop the drain task (after the connection is gone)."""
        self.closed = True
        self._ready.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
