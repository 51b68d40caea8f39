"""How fast one connection, and one review, may write: bytes and updates a second.

Enforced by backpressure rather than by closing: a connection over its rate is not
read again until its tokens are back. uvicorn stops reading a socket while one of
its messages waits for the app, so TCP slows the sender down and nothing piles up in
memory; an honest client that pastes a lot simply sees its change arrive a little
later. A review's budget is shared by every connection to any of its docs on this
process, so a review flooded at its ceiling takes a bounded share of the event loop
and every other review keeps its latency (bench: `noisy-neighbour`).

Tokens are spent ahead ("reservation"): a write that takes the budget below zero
goes through once the debt is paid back, so a single frame larger than the burst
still passes, and writers sharing a review's budget are served in turn.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class WriteLimits:
    """Rates per connection and per review, and the size a doc may grow to.

    Defaults: far above what people typing in a meeting send (a burst of pasting is a
    few KiB; a busy review a few dozen updates a second), far below what takes a
    2-core process's loop from other reviews (bench/README.md, "Isolation").
    """

    bytes_per_s: float = 256 * 1024
    burst_bytes: float = 2 * 1024 * 1024
    updates_per_s: float = 100.0
    burst_updates: float = 400.0
    review_bytes_per_s: float = 512 * 1024
    review_burst_bytes: float = 4 * 1024 * 1024
    review_updates_per_s: float = 1000.0
    review_burst_updates: float = 4000.0
    # Stored bytes of one review doc (its snapshot and the updates since); past it,
    # clients' updates are refused. Server edits (closing the review) still go in.
    max_doc_bytes: int = 16 * 1024 * 1024


DEFAULT_WRITE_LIMITS = WriteLimits()


class WriteBudget:
    """Byte and update tokens refilled at a rate up to a burst (~90 bytes each)."""

    __slots__ = ("bytes", "stamp", "updates")

    def __init__(self, burst_bytes: float, burst_updates: float) -> None:
        self.bytes = burst_bytes
        self.updates = burst_updates
        self.stamp = time.monotonic()

    def reserve(
        self,
        size: int,
        bytes_rate: float,
        bytes_burst: float,
        updates_rate: float,
        updates_burst: float,
    ) -> float:
        """Spend one update of ``size`` bytes; return how long to wait before it goes."""
        now = time.monotonic()
        elapsed = now - self.stamp
        self.stamp = now
        self.bytes = min(bytes_burst, self.bytes + elapsed * bytes_rate) - size
        self.updates = min(updates_burst, self.updates + elapsed * updates_rate) - 1
        wait_bytes = -self.bytes / bytes_rate if self.bytes < 0 else 0.0
        wait_updates = -self.updates / updates_rate if self.updates < 0 else 0.0
        return max(wait_bytes, wait_updates)


def connection_budget(limits: WriteLimits) -> WriteBudget:
    return WriteBudget(limits.burst_bytes, limits.burst_updates)


def review_budget(limits: WriteLimits) -> WriteBudget:
    return WriteBudget(limits.review_burst_bytes, limits.review_burst_updates)


def write_delay(
    connection: WriteBudget, review: WriteBudget, size: int, limits: WriteLimits
) -> float:
    """Seconds the write of an update of ``size`` bytes waits: the longer of the two debts."""
    own = connection.reserve(
        size, limits.bytes_per_s, limits.burst_bytes, limits.updates_per_s, limits.burst_updates
    )
    shared = review.reserve(
        size,
        limits.review_bytes_per_s,
        limits.review_burst_bytes,
        limits.review_updates_per_s,
        limits.review_burst_updates,
    )
    return max(own, shared)


class ReviewBudgets:
    """One budget per review with a loaded room, shared by its rooms; freed with the last."""

    def __init__(self, limits: WriteLimits) -> None:
        self.limits = limits
        self._budgets: dict[str, tuple[WriteBudget, int]] = {}

    def acquire(self, review_id: str) -> WriteBudget:
        budget, users = self._budgets.get(review_id) or (review_budget(self.limits), 0)
        self._budgets[review_id] = (budget, users + 1)
        return budget

    def release(self, review_id: str) -> None:
        found = self._budgets.get(review_id)
        if found is None:
            return
        budget, users = found
        if users <= 1:
            del self._budgets[review_id]
        else:
            self._budgets[review_id] = (budget, users - 1)

    def __len__(self) -> int:
        return len(self._budgets)
