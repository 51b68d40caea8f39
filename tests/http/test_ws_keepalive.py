"""The keepalive wheel: connections that arrive together are pinged spread over the
interval, and a full turn visits each of them once."""

from __future__ import annotations

import asyncio

from debrief.http.ws_keepalive import KeepaliveWheel


class Counted:
    def __init__(self) -> None:
        self.visits = 0

    def keepalive_tick(self, now: float) -> None:
        self.visits += 1


async def test_a_burst_of_connections_is_spread_over_every_bucket() -> None:
    wheel = KeepaliveWheel(asyncio.get_running_loop(), interval=20.0, timeout=20.0, slots=50)
    conns = [Counted() for _ in range(1_000)]
    slots = [wheel.add(c) for c in conns]  # all in the same instant, as a meeting starts
    assert wheel.sizes() == [20] * 50  # so a tick pings 20, not 1,000
    for _ in range(50):  # one full turn
        wheel._tick()
    assert {c.visits for c in conns} == {1}
    for conn, slot in zip(conns[:500], slots[:500], strict=True):
        wheel.discard(conn, slot)
    assert sum(wheel.sizes()) == 500
    for conn, slot in zip(conns[500:], slots[500:], strict=True):
        wheel.discard(conn, slot)
    assert wheel._timer is None  # nothing left to ping: no timer either


async def test_by_default_a_tick_pings_a_small_share() -> None:
    """A bucket per 50 ms of the interval: 6,000 sockets opened at once are pinged 15 at a
    time, 20 times a second, not 120 every 0.4 s."""
    wheel = KeepaliveWheel(asyncio.get_running_loop(), interval=20.0, timeout=20.0)
    conns = [Counted() for _ in range(6_000)]
    slots = [wheel.add(c) for c in conns]
    assert wheel.sizes() == [15] * 400
    assert wheel._tick_s == 0.05
    for _ in range(400):  # one full turn
        wheel._tick()
    assert {c.visits for c in conns} == {1}
    for conn, slot in zip(conns, slots, strict=True):
        wheel.discard(conn, slot)
    assert wheel._timer is None
