"""One simulated y-websocket client: connect, sync, send, and time what arrives."""

from __future__ import annotations

import asyncio
import os
import time
from array import array
from collections.abc import Callable
from typing import Any

from pycrdt import Awareness, Doc, Map, Text, TransactionEvent, handle_sync_message
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .plan import ClientPlan, Target
from .rawws import RawWebSocket
from .wire import (
    Framing,
    YMessageType,
    YSyncMessageType,
    awareness_marker,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    scan_awareness,
    scan_updates,
    update_key,
)

_EMPTY_DOC: Doc[Any] = Doc()
EMPTY_STEP1 = create_sync_message(_EMPTY_DOC)
MAX_FRAME = 64 * 1024 * 1024
# BENCH_FULL_CLIENTS=1: every client uses the websockets library (to cross-check rawws.py)
FULL_CLIENTS = os.environ.get("BENCH_FULL_CLIENTS") == "1"


class Expectation:
    """Which (sender, seq) pairs a client must receive, and which it has.

    ``cumulative`` is for awareness, which is state-based: a server may send only the latest
    state of a client (Hocuspocus coalesces per flush window), so seeing ``seq`` also
    delivers every older state of that sender, counted as ``superseded`` (no latency sample).
    """

    def __init__(
        self, senders: list[int], own: int, per_sender: int, cumulative: bool = False
    ) -> None:
        self.slots = {s: i for i, s in enumerate(x for x in senders if x != own)}
        self.per_sender = per_sender
        self.cumulative = cumulative
        self.seen = bytearray(len(self.slots) * per_sender)
        self.upto = [0] * len(self.slots)  # cumulative: seqs below this are settled
        self.expected = len(self.seen)
        self.received = 0
        self.superseded = 0

    def mark(self, sender: int, seq: int) -> bool:
        """Record a pair; True the first time it is seen and it was expected."""
        slot = self.slots.get(sender)
        if slot is None or not 0 <= seq < self.per_sender:
            return False
        base = slot * self.per_sender
        if self.seen[base + seq]:
            return False
        self.seen[base + seq] = 1
        self.received += 1
        if self.cumulative:
            for k in range(self.upto[slot], seq):
                if not self.seen[base + k]:
                    self.seen[base + k] = 1
                    self.superseded += 1
            self.upto[slot] = max(self.upto[slot], seq + 1)
        return True

    @property
    def delivered(self) -> int:
        return self.received + self.superseded

    @property
    def complete(self) -> bool:
        return self.delivered >= self.expected


class BenchClient:
    """A y-websocket client that scans frames for latency markers (cheap) or, when verifying,
    also applies every update to a pycrdt Doc."""

    def __init__(
        self,
        plan: ClientPlan,
        target: Target,
        url: str,
        doc_name: str,
        token: str,
        latencies: array[int],
        on_complete: Callable[[], None],
    ) -> None:
        self.plan = plan
        self.target = target
        self.url = url
        self.token = token
        self.framing = Framing(target.hocuspocus, doc_name)
        self.latencies = latencies
        self.on_complete = on_complete
        self.ws: ClientConnection | None = None
        self.raw: RawWebSocket | None = None
        self.synced = asyncio.Event()
        self.synced_at_ns = 0
        self.step2_bytes = 0
        self.expect: Expectation | None = None
        self.awareness_expect: Expectation | None = None
        self.errors: list[str] = []
        self.closed = False
        self.doc: Doc[Any] | None = Doc() if plan.verify or plan.is_writer else None
        self._reader: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    # -- connection -------------------------------------------------------------------------

    @property
    def light(self) -> bool:
        """Plain listeners use the cheap raw-protocol client (see rawws.py)."""
        return self.doc is None and not FULL_CLIENTS

    async def connect(self, timeout_s: float) -> bool:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            async with asyncio.timeout(timeout_s):
                if self.light:
                    self.raw = await RawWebSocket.open(
                        self.url, headers, self._on_frame, self._on_raw_close, timeout_s
                    )
                else:
                    self.ws = await connect(
                        self.url,
                        additional_headers=headers or None,
                        compression=None,
                        max_size=MAX_FRAME,
                        ping_interval=None,
                        open_timeout=timeout_s,
                        close_timeout=2,
                    )
                for frame in self.framing.opening(self.token or "bench"):
                    await self._send_wire(frame)
                step1 = create_sync_message(self.doc) if self.doc is not None else EMPTY_STEP1
                await self.send(step1)
                if self.ws is not None:
                    self._reader = asyncio.create_task(self._read_loop())
                await self.synced.wait()
            return True
        except (TimeoutError, OSError, ConnectionClosed, Exception) as exc:
            self.errors.append(f"connect: {type(exc).__name__}: {exc}"[:200])
            return False

    async def close(self) -> None:
        self.closed = True
        if self.raw is not None:
            self.raw.close()
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:
                pass
        if self._reader is not None:
            self._reader.cancel()

    @property
    def is_open(self) -> bool:
        if self.closed:
            return False
        if self.raw is not None:
            return not self.raw.closed
        return self._reader is not None and not self._reader.done()

    async def send(self, message: bytes) -> None:
        await self._send_wire(self.framing.wrap(message))

    async def _send_wire(self, frame: bytes) -> None:
        if self.raw is not None:
            self.raw.send(frame)
        else:
            assert self.ws is not None
            await self.ws.send(frame)

    # -- receiving --------------------------------------------------------------------------

    def _on_raw_close(self, why: str) -> None:
        if not self.closed:
            self.errors.append(why[:200])

    async def _read_loop(self) -> None:
        assert self.ws is not None
        try:
            async for frame in self.ws:
                now = time.monotonic_ns()
                if isinstance(frame, str):
                    continue
                self._on_frame(frame, now)
        except ConnectionClosed as exc:
            if not self.closed:
                self.errors.append(f"closed by server: {exc}"[:200])
        except Exception as exc:
            self.errors.append(f"read: {type(exc).__name__}: {exc}"[:200])

    def _on_frame(self, frame: bytes, now: int) -> None:
        msg = self.framing.unwrap(frame)
        if msg is None:
            return
        if msg.kind == YMessageType.SYNC:
            if msg.sync == YSyncMessageType.SYNC_STEP1:
                reply = handle_sync_message(msg.body[1:], self.doc or _EMPTY_DOC)
                if reply is None:
                    return
                if self.raw is not None:
                    self.raw.send(self.framing.wrap(reply))
                elif self.ws is not None:
                    task = asyncio.ensure_future(self._send_quiet(reply))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                return
            if self.doc is not None and not self.plan.is_writer:
                handle_sync_message(msg.body[1:], self.doc)
            if msg.sync == YSyncMessageType.SYNC_STEP2 and not self.synced.is_set():
                self.step2_bytes = len(msg.body)
                self.synced_at_ns = now
                self.synced.set()
            if self.expect is not None:
                self._record(self.expect, scan_updates(msg.body), now)
        elif msg.kind == YMessageType.AWARENESS and self.awareness_expect is not None:
            self._record(self.awareness_expect, scan_awareness(msg.body), now)
        elif msg.kind == 2 and not self.target.hocuspocus:
            self.errors.append("permission denied message from server")

    def _record(self, expect: Expectation, markers: list[tuple[int, int, int]], now: int) -> None:
        was_complete = expect.complete
        for sender, seq, sent in markers:
            if expect.mark(sender, seq):
                self.latencies.append((now - sent) // 1000)
        if not was_complete and expect.complete:
            self.on_complete()

    async def _send_quiet(self, message: bytes) -> None:
        try:
            await self.send(message)
        except ConnectionClosed:
            pass

    # -- verification -----------------------------------------------------------------------

    def bench_keys(self) -> set[tuple[int, int]]:
        """(writer, seq) pairs present in the verifying client's doc."""
        if self.doc is None:
            return set()
        found: set[tuple[int, int]] = set()
        for key in self.doc.get("bench", type=Map).keys():
            parts = key.split(":")
            if len(parts) == 4 and parts[0] == "b":
                found.add((int(parts[1]), int(parts[2])))
        return found

    def text_length(self, name: str) -> int:
        if self.doc is None:
            return 0
        return len(self.doc.get(name, type=Text))


class UpdateWriter:
    """Produces one Yjs update per call: a new key in the ``bench`` map, carrying the send time."""

    def __init__(self, client: BenchClient, payload_bytes: int) -> None:
        assert client.doc is not None
        self.client = client
        self.doc = client.doc
        self.map = self.doc.get("bench", type=Map)
        self.payload = "x" * payload_bytes
        self._update = b""
        self.doc.observe(self._capture)

    def _capture(self, event: TransactionEvent) -> None:
        self._update = event.update

    async def send(self, seq: int) -> None:
        sent = time.monotonic_ns()
        self.map[update_key(self.client.plan.writer, seq, sent)] = self.payload
        await self.client.send(create_update_message(self._update))


class CursorMover:
    """Sends an awareness update (a moving cursor) carrying the send time."""

    def __init__(self, client: BenchClient) -> None:
        self.client = client
        self.awareness = Awareness(Doc())
        self.name = f"bench-{client.plan.cid}"

    async def send(self, seq: int) -> None:
        sent = time.monotonic_ns()
        state: dict[str, Any] = {
            "user": {"name": self.name},
            "cursor": {"anchor": seq % 500, "head": (seq * 7) % 500},
            "bench": awareness_marker(self.client.plan.cid, seq, sent),
        }
        self.awareness.set_local_state(state)
        update = self.awareness.encode_awareness_update([self.awareness.client_id])
        await self.client.send(create_awareness_message(update))
