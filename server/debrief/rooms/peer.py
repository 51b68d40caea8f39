"""One connected client and how frames reach it without holding anyone back.

Rooms hand every peer the same frame object. Two ways out:
- fast path (the transport can write whole websocket frames synchronously): the
  frame's wire bytes are built once per broadcast (memoised on the frame object's
  identity) and written straight to each peer's socket buffer, no task per peer;
  a peer whose unsent buffer passes ``buffer_limit`` bytes is too slow;
- otherwise a bounded queue drained by the peer's own task; more than
  ``queue_limit`` frames waiting is too slow.
A too-slow peer is closed with 1013 and resyncs when it reconnects. A joiner's sync
step 2 (the whole doc it lacks, possibly more than ``buffer_limit``) raises its
allowance by that frame's size until it has drained (``send_sync``).

A server-side close that has not gone out, or has not been answered, within
``close_timeout`` seconds aborts the connection: a client that stopped reading never
gets to the close frame queued behind what it has not read, and its socket, with the
megabytes buffered for it, would otherwise stay open for good.

Each peer also has a token bucket for the presence it sends (rooms/room.py charges
it; ~100 bytes a connection): more than any browser sends is a flood (1008).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from websockets.frames import Frame, Opcode

from debrief.protocol.awareness import PresenceFlood, PresenceLimits
from debrief.rooms.ratelimit import TokenBucket
from debrief.rooms.write_rates import WriteBudget, WriteLimits, connection_budget, write_delay
from debrief.tasks import cancel_and_wait, wait_quietly

CLOSE_TRY_AGAIN_LATER = 1013
DEFAULT_PRESENCE = PresenceLimits()
PRESENCE_BYTES_PER_TOKEN = 8 * 1024
ECHO_COST = 0.1
SYNC_FRAME_OVERHEAD = 16  # websocket frame header bytes, with room to spare


class Transport(Protocol):
    async def send(self, data: bytes) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...

    def abort(self) -> None:
        """Drop the connection now if it is still open, discarding unsent bytes."""
        ...


class FrameWriter(Protocol):
    """A transport that can also write pre-encoded frames synchronously."""

    def write_wire(self, wire: bytes) -> bool:
        """Write complete frame bytes; False when the connection is closing."""
        ...

    def buffered(self) -> int:
        """Bytes written but not yet sent to the network."""
        ...

    def direct_fd(self) -> int:
        """The socket's fd when raw bytes may be written to it now (open, nothing
        buffered), else -1 (see rooms/fanout.py)."""
        ...


_last_frame: bytes | None = None
_last_wire = b""


def binary_frame_wire(frame: bytes) -> bytes:
    """The unmasked websocket binary frame for ``frame``; the same object reuses the result."""
    global _last_frame, _last_wire
    if frame is not _last_frame:
        _last_wire = Frame(Opcode.BINARY, frame).serialize(mask=False, extensions=[])
        _last_frame = frame
    return _last_wire


class Peer:
    # Bytes over buffer_limit allowed while a sync step 2 drains (see send_sync); on the
    # class until first set: idle connections carry no per-instance entry for it.
    _sync_allowance = 0
    # What this connection may still write (rooms/write_rates.py); made on its first
    # update, so read-only and idle connections carry none.
    write_budget: WriteBudget | None = None

    def __init__(
        self,
        transport: Transport,
        *,
        writable: bool,
        user: dict[str, Any],
        session_id: str = "",
        queue_limit: int = 2048,
        buffer_limit: int = 16 * 1024 * 1024,
        close_timeout: float = 5.0,
        on_slow: Callable[[], None] | None = None,
        presence: PresenceLimits = DEFAULT_PRESENCE,
    ) -> None:
        self.transport = transport
        self.writable = writable
        self.user = user
        self.session_id = session_id
        self.queue_limit = queue_limit
        self.buffer_limit = buffer_limit
        self.close_timeout = close_timeout
        self.on_slow = on_slow
        self.presence = presence  # shared by every peer: one pointer each
        self.presence_bucket = TokenBucket(presence.burst)
        writer = transport if hasattr(transport, "write_wire") else None
        self._writer: FrameWriter | None = writer  # type: ignore[assignment]
        self.closed = False
        self.close_code: int | None = None
        self.last_sent = time.monotonic()
        # Only a peer without a raw writer queues frames for a drain task; the others
        # (every websocket under uvicorn) need neither, and 5,000 idle clients would
        # keep 4 MB of empty deques alive.
        self._queue: deque[bytes] | None = None if writer is not None else deque()
        self._ready: asyncio.Event | None = None if writer is not None else asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._writer is None:
            self._task = asyncio.create_task(self._drain())

    def send(self, frame: bytes) -> None:
        """Send or queue a frame; never blocks."""
        if self.closed:
            return
        if self._writer is not None:
            self.send_wire(binary_frame_wire(frame))
            return
        assert self._queue is not None and self._ready is not None
        if len(self._queue) >= self.queue_limit:
            self._too_slow()
            return
        self._queue.append(frame)
        self._ready.set()

    def send_sync(self, frame: bytes) -> None:
        """Send a joiner's sync step 2, which never counts against the slow-client bound.

        It holds the whole doc the joiner lacks, which may be bigger than
        ``buffer_limit`` (a big review's first join would be closed as slow). Until the
        buffer is back within the bound, the peer may have that many bytes more; the
        allowance is the largest such frame, not their sum, so a client that keeps
        asking without reading stays bounded.
        """
        if self._writer is not None and not self.closed:
            self._sync_allowance = max(self._sync_allowance, len(frame) + SYNC_FRAME_OVERHEAD)
        self.send(frame)

    def send_wire(self, wire: bytes) -> None:
        """Fast path: write frame bytes (or the rest of them) through the transport."""
        writer = self._writer
        assert writer is not None
        if not writer.write_wire(wire):
            self.closed = True
            return
        self.last_sent = time.monotonic()
        buffered = writer.buffered()
        if buffered > self.buffer_limit:
            if buffered > self.buffer_limit + self._sync_allowance:
                self._too_slow()
        elif self._sync_allowance:
            self._sync_allowance = 0  # the sync has drained: the usual bound again

    def direct_fd(self) -> int:
        """The socket fd a fan-out thread may write to now, or -1 (rooms/fanout.py)."""
        if self.closed or self._writer is None:
            return -1
        return self._writer.direct_fd()

    def _too_slow(self) -> None:
        self.close(CLOSE_TRY_AGAIN_LATER, "too far behind: reconnect to resync")
        if self.on_slow is not None:
            self.on_slow()

    def write_delay(self, review: WriteBudget, size: int, limits: WriteLimits) -> float:
        """Seconds to hold back this peer's update of ``size`` bytes (0: go at once)."""
        budget = self.write_budget
        if budget is None:
            budget = self.write_budget = connection_budget(limits)
        return write_delay(budget, review, size, limits)

    @staticmethod
    def presence_cost(size: int, *, echo_only: bool = False) -> float:
        """Tokens an awareness message of ``size`` bytes costs: one, or a tenth for
        echoes (browsers send back every change they receive, nothing is relayed),
        and one more per PRESENCE_BYTES_PER_TOKEN, as parsing is what it costs us."""
        return (ECHO_COST if echo_only else 1.0) + size / PRESENCE_BYTES_PER_TOKEN

    def charge_presence(self, cost: float) -> None:
        """Raise PresenceFlood unless ``cost`` tokens of presence rate are left."""
        limits = self.presence
        if not self.presence_bucket.has(cost, limits.rate, limits.burst):
            raise PresenceFlood("too many presence updates")

    def spend_presence(self, cost: float) -> None:
        self.presence_bucket.spend(cost)

    @property
    def backlog(self) -> int:
        return len(self._queue) if self._queue is not None else 0

    async def _drain(self) -> None:
        queue, ready = self._queue, self._ready
        assert queue is not None and ready is not None
        try:
            while not self.closed:
                await ready.wait()
                ready.clear()
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
        self._wake_drain(clear=True)
        self._closing = asyncio.get_running_loop().create_task(self._close(code, reason))

    def _wake_drain(self, *, clear: bool = False) -> None:
        """Let the drain task see ``closed`` (dropping what it had left to send)."""
        if self._queue is not None and clear:
            self._queue.clear()
        if self._ready is not None:
            self._ready.set()

    async def _close(self, code: int, reason: str) -> None:
        """Send the close frame; abort the connection if it is still open after
        ``close_timeout`` (whether the frame is stuck behind unread bytes or the client
        never answers it). The timer is not cancelled when the close goes out, as the
        client may still not read it; aborting a connection that ended is a no-op."""
        transport = self.transport
        asyncio.get_running_loop().call_later(self.close_timeout, transport.abort)
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.close_timeout):
                await transport.close(code, reason)

    async def stop(self) -> None:
        """Stop the drain task and finish a server-side close (the close frame must
        be written before the ASGI app returns and uvicorn drops the socket)."""
        self.closed = True
        self._wake_drain()
        closing, self._closing = self._closing, None
        if closing is not None:
            await wait_quietly(closing)
        # Closed: what the drain task had left to send is dropped, and a send stuck on
        # a client that stopped reading must not keep this connection alive. Dropped
        # once done: a cancelled task's traceback holds _drain's frame, so the peer.
        task, self._task = self._task, None
        await cancel_and_wait(task)
