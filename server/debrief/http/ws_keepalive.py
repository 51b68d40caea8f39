"""Websocket pings for every connection of a server from one timer (a timer wheel).

uvicorn's websocket protocols keep a timer per connection for the next ping and
another for its pong (~550 bytes of Python objects each, plus libuv's own). Here the
connections sit in ``slots`` buckets, one visited per tick, so each is visited once per
``interval``: a connection with no ping in flight gets one; one whose ping has gone
unanswered for ``timeout`` seconds is failed (1011, as uvicorn does). A dead peer is
noticed within interval + timeout (+ one interval when timeout > interval), as with
uvicorn's chained timers.

New connections are dealt to the buckets in turn, not put in the bucket of the moment:
thousands of clients arrive in bursts (a meeting starting, a restart), and in one bucket
their pings, and the pongs right after, would hold the loop for tens of milliseconds
every interval (a ping and its pong cost ~50 us of Python each). By default there is a
bucket per TICK_S of the interval, so a tick's pings are a small burst: with 50 buckets
over 20 s, 6,000 connections made a tick of 120 pings every 0.4 s, 2-5 ms of the loop
on a slow box, with their pongs right behind, in the way of every command then.
"""

from __future__ import annotations

import asyncio
import math
from typing import Protocol

TICK_S = 0.05  # a bucket per this much of the interval (unless told how many)


class Pinged(Protocol):
    def keepalive_tick(self, now: float) -> None:
        """Send a ping, or fail the connection whose ping was not answered in time."""
        ...


class KeepaliveWheel:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        interval: float,
        timeout: float | None,
        slots: int | None = None,
    ) -> None:
        slots = slots or max(1, math.ceil(interval / TICK_S))
        self.loop = loop
        self.interval = interval
        self.timeout = interval if timeout is None else timeout
        self._slots: list[set[Pinged]] = [set() for _ in range(slots)]
        self._tick_s = interval / slots
        self._index = 0
        self._deal = 0  # the bucket the next new connection goes to
        self._members = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, conn: Pinged) -> int:
        """Start pinging ``conn`` (first visit within one interval); returns its slot,
        which ``discard`` needs."""
        slot = self._deal
        self._deal = (slot + 1) % len(self._slots)
        self._slots[slot].add(conn)
        self._members += 1
        if self._timer is None:
            self._timer = self.loop.call_later(self._tick_s, self._tick)
        return slot

    def sizes(self) -> list[int]:
        """Connections per bucket (for tests and diagnostics)."""
        return [len(bucket) for bucket in self._slots]

    def discard(self, conn: Pinged, slot: int) -> None:
        bucket = self._slots[slot]
        if conn in bucket:
            bucket.discard(conn)
            self._members -= 1
        if not self._members and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _tick(self) -> None:
        self._index = index = (self._index + 1) % len(self._slots)
        now = self.loop.time()
        for conn in list(self._slots[index]):
            conn.keepalive_tick(now)
        self._timer = self.loop.call_later(self._tick_s, self._tick) if self._members else None
