"""What a meeting client holds: the review's three docs over websockets, the `room` doc
decoded into a real pycrdt Doc (and the hidden notes' counts from the server's awareness
entry of it), and the checks that say when a command's change arrived.

Commands of one review are sent one after the other (the next only after the answer to
the last), so every client sees their effects in that order: a client's cursor moves
through the review's expectations in order, each settled the moment its predicate holds
on the client's copy of the `room` doc. A predicate may only need to be false on the state
the command before it left (a phase differs from the current one, a timer state from the
last). Should a server merge two changes into one frame, a later *monotone* expectation
(a note count reaching k) that holds settles every earlier one as well.
"""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Map, handle_sync_message

from debrief.protocol import AwarenessFrame, parse_frame
from debrief.protocol.awareness import SERVER_CLIENT_ID, parse_awareness

from .client import EMPTY_STEP1
from .rawws import RawWebSocket

DOCS = ("room", "timeline", "recap")  # what the web app's meeting view opens
_EMPTY: Doc[Any] = Doc()
Predicate = Callable[["RoomView"], bool]


class RoomView:
    """A client's copy of the `room` doc, with its root maps looked up once, and the
    hidden notes' counts the server shows in its awareness entry."""

    def __init__(self) -> None:
        self.doc: Doc[Any] = Doc()
        self.meeting = self.doc.get("meeting", type=Map)
        self.legacy_counts = self.doc.get("note_counts", type=Map)  # older servers'
        self.notes = self.doc.get("notes", type=Map)
        self.shown: dict[str, Any] | None = None
        self.shown_clock = 0

    @property
    def counts(self) -> Any:
        return self.shown if self.shown is not None else self.legacy_counts

    def show(self, payload: bytes) -> bool:
        """An awareness message's entries: True when it changed the server's counts."""
        changed = False
        for entry in parse_awareness(payload):
            if entry.client_id != SERVER_CLIENT_ID or entry.clock <= self.shown_clock:
                continue
            counts = (entry.state or {}).get("note_counts")
            if isinstance(counts, dict):
                self.shown, self.shown_clock, changed = counts, entry.clock, True
        return changed

    def timer(self) -> dict[str, Any]:
        value = self.meeting.get("timer")
        return value if isinstance(value, dict) else {}


def counts_at_least(section: str, k: int) -> Predicate:
    return lambda v: (v.counts.get(section) or 0) >= k


def phase_is(phase_id: str) -> Predicate:
    return lambda v: v.meeting.get("phase_id") == phase_id


def timer_is(status: str, duration_ms: int) -> Predicate:
    def check(v: RoomView) -> bool:
        t = v.timer()
        return t.get("status") == status and t.get("duration_ms") == duration_ms

    return check


def notes_at_least(n: int) -> Predicate:
    return lambda v: len(v.notes) >= n


@dataclass
class Expectation:
    """One command's change, awaited by every client of its review."""

    kind: str
    pred: Predicate
    sent_ns: int
    monotone: bool
    clients: int
    arrivals: list[int] = field(default_factory=list)  # ns, one per client that has it
    failed: bool = False  # the command was refused: nothing to wait for

    @property
    def complete(self) -> bool:
        return self.failed or len(self.arrivals) >= self.clients


class ReviewWatch:
    """The expectations of one review and each client's cursor through them."""

    def __init__(self, clients: int) -> None:
        self.clients = clients
        self.expectations: list[Expectation] = []
        self.cursors = [0] * clients
        self.pending = 0
        self.settled = asyncio.Event()
        self.settled.set()

    def expect(self, kind: str, pred: Predicate, monotone: bool) -> Expectation:
        exp = Expectation(kind, pred, time.monotonic_ns(), monotone, self.clients)
        self.expectations.append(exp)
        self.pending += 1
        self.settled.clear()
        return exp

    def refused(self, exp: Expectation) -> None:
        if not exp.complete:
            exp.failed = True
            self._done_one()

    def check(self, client: int, view: RoomView, now: int) -> None:
        exps = self.expectations
        i = self.cursors[client]
        n = len(exps)
        while i < n:
            if exps[i].failed or exps[i].pred(view):
                self._arrive(exps[i], now)
                i += 1
                continue
            # merged changes: a later monotone expectation that holds settles all before it
            for j in range(n - 1, i, -1):
                if exps[j].monotone and not exps[j].failed and exps[j].pred(view):
                    for k in range(i, j + 1):
                        self._arrive(exps[k], now)
                    i = j + 1
                    break
            else:
                break
        self.cursors[client] = i

    def _arrive(self, exp: Expectation, now: int) -> None:
        if exp.failed:
            return
        exp.arrivals.append(now)
        if len(exp.arrivals) == exp.clients:
            self._done_one()

    def _done_one(self) -> None:
        self.pending -= 1
        if self.pending <= 0:
            self.settled.set()


class DocSocket:
    """One websocket on one doc of a review (raw protocol: cheap per frame). With a
    ``view`` the doc's updates are applied to it and ``on_change`` runs after each."""

    def __init__(self, view: RoomView | None, on_change: Callable[[int], None] | None) -> None:
        self.view = view
        self.on_change = on_change
        self.ws: RawWebSocket | None = None
        self.synced = asyncio.Event()
        self.errors: list[str] = []
        self.closing = False

    async def open(self, url: str, token: str, timeout_s: float) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        self.ws = await RawWebSocket.open(url, headers, self._message, self._closed, timeout_s)
        self.ws.send(EMPTY_STEP1)
        async with asyncio.timeout(timeout_s):
            await self.synced.wait()

    def _closed(self, why: str) -> None:
        if not self.closing:
            self.errors.append(why[:200])

    def _message(self, payload: bytes, now: int) -> None:
        if len(payload) >= 2 and payload[0] == 1 and self.view is not None:  # awareness
            frame = parse_frame(payload)
            if isinstance(frame, AwarenessFrame) and self.view.show(frame.payload):
                if self.on_change is not None:
                    self.on_change(now)
            return
        if len(payload) < 2 or payload[0] != 0:  # only sync messages from here on
            return
        doc = self.view.doc if self.view is not None else _EMPTY
        if payload[1] == 0:  # the server's step 1: answer with what we have
            reply = handle_sync_message(payload[1:], doc)
            if reply is not None and self.ws is not None:
                self.ws.send(reply)
            return
        if self.view is not None:
            handle_sync_message(payload[1:], doc)
        if payload[1] == 1:
            self.synced.set()
        if self.on_change is not None:
            self.on_change(now)

    def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            self.ws.close()


class MeetingClient:
    """One person in the meeting: the three docs open, the `room` doc decoded."""

    def __init__(self, index: int, watch: ReviewWatch) -> None:
        self.index = index
        self.watch = watch
        self.view = RoomView()
        self.sockets = [
            DocSocket(self.view, self._changed) if name == "room" else DocSocket(None, None)
            for name in DOCS
        ]

    def _changed(self, now: int) -> None:
        self.watch.check(self.index, self.view, now)

    async def open(self, ws_base: str, review_id: str, token: str, timeout_s: float) -> None:
        for name, sock in zip(DOCS, self.sockets, strict=True):
            await sock.open(f"{ws_base}/ws/{review_id}/{name}", token, timeout_s)

    @property
    def errors(self) -> list[str]:
        return [e for s in self.sockets for e in s.errors]

    def close(self) -> None:
        for s in self.sockets:
            s.close()


def latencies_us(exp: Expectation) -> array[int]:
    """Each client's send -> arrival of one expectation, in microseconds."""
    return array("q", ((a - exp.sent_ns) // 1000 for a in exp.arrivals))
