"""The timer in server time: clients with skewed clocks show the same remaining time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from pycrdt import Map

from debrief.meeting import timer as tm
from support.meeting import Review, open_review
from support.server import ServerProcess

SKEWS_MS = (-5_000, 5_000)


@pytest.fixture
async def review(server: ServerProcess) -> AsyncIterator[Review]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield await open_review(server, http, "Timer review")


def skewed_clock(skew_ms: int) -> Callable[[], float]:
    return lambda: time.time() * 1000 + skew_ms


async def estimate_offset(http: httpx.AsyncClient, clock: Callable[[], float]) -> float:
    samples = []
    for _ in range(8):
        t0 = clock()
        server_ms = (await http.get("/api/time")).json()["now_ms"]
        samples.append((t0, server_ms, clock()))
    return tm.clock_offset(samples)


async def test_skewed_clients_agree_on_remaining_time(review: Review) -> None:
    await review.ok("moderator", "POST", "/phase", {"phase_id": "timeline"})
    clients = [await review.client("participant", "room") for _ in SKEWS_MS]
    clocks = [skewed_clock(skew) for skew in SKEWS_MS]
    offsets = [await estimate_offset(review.http, clock) for clock in clocks]
    for offset, skew in zip(offsets, SKEWS_MS, strict=True):
        assert abs(offset + skew) < 250  # the estimate undoes the skew

    await review.ok("moderator", "POST", "/timer/start", {})

    def timer_of(index: int) -> tm.TimerState:
        raw = clients[index].doc.get("meeting", type=Map).to_py()["timer"]
        return tm.TimerState.from_dict(raw)

    for index in range(len(clients)):
        await clients[index].wait_for(lambda i=index: timer_of(i).status == "running")
    remaining = [
        tm.remaining_ms(timer_of(i), round(clocks[i]() + offsets[i])) for i in range(len(clients))
    ]
    assert abs(remaining[0] - remaining[1]) <= 250
    assert 0 < remaining[0] <= 15 * 60_000
    # what the naive clients (no offset) would show differs by the whole skew
    naive = [tm.remaining_ms(timer_of(i), round(clocks[i]())) for i in range(len(clients))]
    assert abs(naive[0] - naive[1]) > 9_000

    paused = await review.ok("moderator", "POST", "/timer/pause")
    await clients[0].wait_for(lambda: timer_of(0).status == "paused")
    assert tm.remaining_ms(timer_of(0), 0) == paused["timer"]["remaining_ms"]
    for client in clients:
        await client.close()


async def test_timer_rules(review: Review) -> None:
    mod = "moderator"
    bad = await review.call(mod, "POST", "/timer/start", {})
    assert bad.status_code == 422  # no phase and no minutes: nothing to count down
    started = await review.ok(mod, "POST", "/timer/start", {"minutes": 0.5})
    assert started["timer"]["duration_ms"] == 30_000
    twice = await review.call(mod, "POST", "/timer/start", {})
    assert twice.status_code == 409 and twice.json()["error"] == "timer-running"
    huge = await review.ok(mod, "POST", "/timer/extend", {"minutes": 600})  # no upper cap
    assert huge["timer"]["extended_ms"] == 600 * 60_000
    assert (await review.call(mod, "POST", "/timer/extend", {"minutes": 0})).status_code == 422
    assert (await review.call(mod, "POST", "/timer/resume")).status_code == 409
    await review.ok(mod, "PATCH", "", {"settings": {"auto_start_timer": True}})
    moved = await review.ok(mod, "POST", "/phase", {"phase_id": "summary"})
    assert moved["timer"]["status"] == "running" and moved["timer"]["duration_ms"] == 600_000
    reset = await review.ok(mod, "POST", "/timer/reset")
    assert reset["timer"]["status"] == "idle" and reset["timer"]["duration_ms"] == 600_000
    unknown = await review.call(mod, "POST", "/phase", {"phase_id": "nope"})
    assert unknown.status_code == 404
