"""A client that writes ~1 MiB Yjs updates as fast as the server takes them (noisy-neighbour).

Each update appends maps to the root Array ``flood`` of the review's ``timeline`` doc (a root
the schema does not define, so the server stores it like any client's own data): 17 maps,
each holding one 60,000-character string, ~1.02 MB per update; under the server's bounds of
1 MiB per frame, 64 KiB per string and 20,000 structs per update.

The flooder sends one update, waits until its socket has taken every byte (the server reads
no faster than it wants to: backpressure slows us down), and sends the next. It copes with
what a server protecting itself does:

* a refusal (permission-denied message): the refused update leaves a gap in this client id's
  clocks, so every later update under that id would be refused too; the flooder carries on
  with a fresh doc (a new client id; the server allows 200 per participant and doc);
* a close (1008 after repeated refusals, 1013 as too slow, anything): it reconnects with a
  fresh doc and goes on.

It never sends a sync step 1, so the server never sends it the (large) doc; it answers the
server's step 1 with an empty step 2 and reads and drops what other flooders write.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array, Decoder, Doc, Map, TransactionEvent, handle_sync_message
from websockets.frames import Close

from .rawws import RawWebSocket
from .wire import create_update_message

MAPS_PER_UPDATE = 17
STRING_CHARS = 60_000
ROLL_AFTER = 48  # updates per doc before a fresh one (bounds the flooder's own memory)
MSG_SYNC, MSG_AUTH = 0, 2
_EMPTY: Doc[Any] = Doc()
STEP1 = 0


class FloodUpdates:
    """Produces ~1 MiB updates from a pycrdt doc; ``roll()`` starts over with a new client id."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.filler = "x" * (STRING_CHARS - 40)
        self.docs = 0
        self.made = 0
        self.doc: Doc[Any] = Doc()
        self._in_doc = 0
        self._update = b""
        self.roll()

    def roll(self) -> None:
        self.doc = Doc()
        self.doc.observe(self._capture)
        self.docs += 1
        self._in_doc = 0

    @property
    def used(self) -> bool:
        """Whether the current doc has written anything yet."""
        return self._in_doc > 0

    def _capture(self, event: TransactionEvent) -> None:
        self._update = event.update

    def next(self) -> bytes:
        if self._in_doc >= ROLL_AFTER:
            self.roll()
        items = self.doc.get("flood", type=Array)
        with self.doc.transaction():
            for i in range(MAPS_PER_UPDATE):
                items.append(Map({"t": f"{self.tag}:{self.made}:{i};{self.filler}"}))
        self.made += 1
        self._in_doc += 1
        return create_update_message(self._update)


class DrainingSocket(RawWebSocket):
    """RawWebSocket that can wait until everything it wrote has gone into the kernel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writable = asyncio.Event()
        self._writable.set()
        self.close_code: int | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        transport.set_write_buffer_limits(high=0)  # pause as soon as anything is buffered

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._writable.set()
        super().connection_lost(exc)

    def _frame(self, fin: int, opcode: int, payload: bytes, now: int) -> None:
        if opcode == 8 and payload:
            self.close_code = Close.parse(payload).code
        super()._frame(fin, opcode, payload, now)

    async def drained(self) -> None:
        await self._writable.wait()


@dataclass
class FloodStats:
    updates_sent: int = 0
    bytes_sent: int = 0  # handed to the socket and drained
    bytes_received: int = 0  # what the server relayed from the other flooders
    refusals: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    connects: int = 0
    connect_failures: int = 0
    client_ids: int = 0


class Flooder:
    """One flooding client of review A."""

    def __init__(self, index: int, url: str, token: str, stats: FloodStats) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.updates = FloodUpdates(f"f{index}")
        self.stats = stats
        self.ws: DrainingSocket | None = None
        self._early: list[bytes] = []

    def _on_message(self, payload: bytes, _now: int) -> None:
        if len(payload) < 2:
            return
        kind = payload[0]
        if kind == MSG_SYNC and payload[1] == STEP1:
            # Every update of this connection's doc went out on this connection, ahead of
            # this reply: the server lacks nothing (answering with our doc's diff would
            # resend them all, past the frame limit, when its step 1 comes late).
            reply = handle_sync_message(payload[1:], _EMPTY)
            if reply is not None:
                if self.ws is None:  # the step 1 came with the handshake: open() not back yet
                    self._early.append(reply)
                else:
                    self.ws.send(reply)
        elif kind == MSG_AUTH:
            self.stats.refusals += 1
            try:
                dec = Decoder(payload[2:])
                reason = dec.read_var_string()
            except Exception:
                reason = "?"
            self.stats.reasons[reason[:80]] += 1
            if self.updates.used:  # the refused update broke this client id's clock chain
                self.updates.roll()
        else:
            self.stats.bytes_received += len(payload)

    def _on_close(self, why: str) -> None:
        pass  # counted when the flood loop sees the socket closed

    async def _connect(self) -> bool:
        self.updates.roll()
        self.ws = None
        try:
            ws = await DrainingSocket.open(
                self.url, self.headers, self._on_message, self._on_close, 5.0
            )
        except (OSError, TimeoutError, ConnectionError) as exc:
            self.stats.connect_failures += 1
            self.stats.closes[f"connect failed: {type(exc).__name__}"] += 1
            return False
        assert isinstance(ws, DrainingSocket)
        self.ws = ws
        for reply in self._early:
            ws.send(reply)
        self._early.clear()
        self.stats.connects += 1
        return True

    def _note_closed(self) -> None:
        ws = self.ws
        code = ws.close_code if ws is not None else None
        self.stats.closes[str(code) if code is not None else "dropped"] += 1
        self.ws = None

    async def run(self, until_ns: int) -> None:
        """Flood until ``until_ns`` (CLOCK_MONOTONIC), then drop the connection (a reset:
        the kernel discards what the server has not read, so the flood ends at the end)."""
        try:
            while time.monotonic_ns() < until_ns:
                if self.ws is None or self.ws.closed:
                    if self.ws is not None:
                        self._note_closed()
                    if not await self._connect():
                        await asyncio.sleep(0.05)
                    continue
                message = self.updates.next()
                self.ws.send(message)
                left = (until_ns - time.monotonic_ns()) / 1e9
                try:
                    await asyncio.wait_for(self.ws.drained(), max(0.001, left))
                except TimeoutError:
                    break
                if not self.ws.closed:
                    self.stats.updates_sent += 1
                    self.stats.bytes_sent += len(message)
        finally:
            self.stats.client_ids = self.updates.docs
            if self.ws is not None:
                if self.ws.closed:
                    self._note_closed()
                else:  # gone at once: what the server has not read yet is dropped
                    self.ws._abort()
