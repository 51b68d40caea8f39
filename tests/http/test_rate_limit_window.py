"""The moving window's memory per key: bounded by the window, whatever the limit.

`limits` keeps a list of hits per key; RateLimits drops what can no longer decide a hit,
so a high limit (an address shared behind a proxy) does not make each hit slower for
the rest of the expiry period. The clock is set by the test, so windows pass at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from debrief.http.ratelimit import TRIM_EVERY, RateLimits
from debrief.settings import Settings

IP = "10.1.2.3"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """Move the wall clock `limits` and RateLimits read by ``seconds``."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    return advance


def limits_per_ip(rate: str) -> RateLimits:
    settings = Settings()
    settings.rate_ip_commands = rate
    return RateLimits(settings)


def kept(limits: RateLimits) -> int:
    return len(limits.storage.events[limits.ip_commands.key_for(IP)])


def test_a_high_limit_keeps_no_more_than_its_window(clock: Callable[[float], None]) -> None:
    limits = limits_per_ip("1000000/second")
    for _ in range(20_000):  # 20 s at 1,000 a second
        assert limits.command_from(IP) is None
        clock(0.001)
    # About a second's hits (1,000), plus at most what comes between two trims.
    assert 1_000 <= kept(limits) <= 1_000 + TRIM_EVERY


def test_a_low_limit_keeps_no_more_than_its_count(clock: Callable[[float], None]) -> None:
    limits = limits_per_ip("5/second")
    for _ in range(500):  # under the limit: 3 or 4 a second
        assert limits.command_from(IP) is None
        clock(0.3)
    assert kept(limits) <= 5


def test_the_window_still_refuses_and_says_when(clock: Callable[[float], None]) -> None:
    limits = limits_per_ip("5/second")
    for _ in range(300):  # a long history first, trimmed on the way
        limits.command_from(IP)
        clock(0.25)
    clock(2.0)
    for _ in range(5):
        assert limits.command_from(IP) is None
        clock(0.01)
    refused = limits.command_from(IP)
    assert refused is not None and refused.error == "too-many-requests"
    assert refused.retry_after_s == 1
    clock(0.96)  # the first of the five has left the window
    assert limits.command_from(IP) is None
    assert limits.command_from(IP) is not None  # the other four are still in it
