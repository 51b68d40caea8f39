"""Close each doc socket when its session expires, with one timer for all of them.

A timer per connection costs ~500 bytes of Python objects (the handle, its bound
method and arguments) plus libuv's own; here peers whose sessions end in the same
second share a set, and one timer waits for the earliest such second. Sessions
last hours, so a second's precision is plenty.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Protocol

CLOSE_SESSION_EXPIRED = 4401


class Closable(Protocol):
    def close(self, code: int, reason: str) -> None: ...


class SessionDeadlines:
    def __init__(self) -> None:
        self._due: dict[int, set[Closable]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0

    def add(self, expires_at: float, peer: Closable) -> int:
        """Close ``peer`` (4401) once ``expires_at`` (epoch seconds) has passed; returns
        the key ``discard`` needs."""
        key = math.ceil(expires_at)
        bucket = self._due.get(key)
        if bucket is None:
            bucket = self._due[key] = set()
        bucket.add(peer)
        if self._timer is None or key < self._timer_at:
            self._arm(key)
        return key

    def discard(self, key: int, peer: Closable) -> None:
        bucket = self._due.get(key)
        if bucket is not None:
            bucket.discard(peer)
            if not bucket:
                del self._due[key]
        if not self._due and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, key: int) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = key
        delay = max(0.0, key - time.time())
        self._timer = asyncio.get_running_loop().call_later(delay, self._fire)

    def _fire(self) -> None:
        self._timer = None
        now = time.time()
        for key in [k for k in self._due if k <= now]:
            for peer in self._due.pop(key):
                peer.close(CLOSE_SESSION_EXPIRED, "session expired")
        if self._due:
            self._arm(min(self._due))
