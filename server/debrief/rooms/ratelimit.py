"""A token bucket small enough to keep one per connection (~100 bytes)."""

from __future__ import annotations

import time


class TokenBucket:
    """``rate`` tokens a second up to ``burst``; the limits are passed in, not kept,
    since every connection of a process shares them."""

    __slots__ = ("stamp", "tokens")

    def __init__(self, burst: float) -> None:
        self.tokens = burst
        self.stamp = time.monotonic()

    def has(self, cost: float, rate: float, burst: float) -> bool:
        """Refill, then tell whether ``cost`` tokens are there (without taking them)."""
        now = time.monotonic()
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = now
        return self.tokens >= cost

    def spend(self, cost: float) -> None:
        self.tokens -= cost

    def take(self, cost: float, rate: float, burst: float) -> bool:
        """Take ``cost`` tokens if they are there."""
        if not self.has(cost, rate, burst):
            return False
        self.tokens -= cost
        return True
