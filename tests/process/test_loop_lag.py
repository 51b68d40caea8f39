"""loop_lag: a stall of the event loop shows on /metrics as the lateness of the monitor's
timer (debrief_event_loop_lag_seconds)."""

from __future__ import annotations

import asyncio
import time

from debrief.loop_lag import LoopLag
from debrief.metrics import Metrics


class Watched:
    """The app's histogram, and an event for each value it is given."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.values: list[float] = []
        self.changed = asyncio.Event()

    def observe(self, amount: float) -> None:
        self.metrics.loop_lag.observe(amount)
        self.values.append(amount)
        self.changed.set()

    async def next_value(self) -> float:
        self.changed.clear()
        async with asyncio.timeout(5):
            await self.changed.wait()
        return self.values[-1]

    def sample(self, suffix: str, labels: dict[str, str] | None = None) -> float:
        name = f"debrief_event_loop_lag_seconds{suffix}"
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_a_stall_longer_than_the_interval_is_counted() -> None:
    watched = Watched(Metrics())
    lag = LoopLag(watched, interval_s=0.025)
    lag.start()
    try:
        await watched.next_value()  # the monitor is running
        time.sleep(0.08)  # noqa: ASYNC251 -- the stall under test: the timer falls due in it
        late = await watched.next_value()
    finally:
        await lag.stop()
    assert late >= 0.05
    over_50ms = watched.sample("_count") - watched.sample("_bucket", {"le": "0.05"})
    assert over_50ms >= 1
    assert lag._task is None


async def test_stop_ends_the_monitor() -> None:
    watched = Watched(Metrics())
    lag = LoopLag(watched, interval_s=0.01)
    lag.start()
    await watched.next_value()
    task = lag._task
    await lag.stop()
    assert task is not None and task.done()
    seen = len(watched.values)
    await asyncio.sleep(0.05)  # five intervals: a live monitor would have observed again
    assert len(watched.values) == seen
