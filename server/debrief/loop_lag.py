"""How late the event loop runs what is due: the server's own measure of its stalls.

Everything a meeting does waits its turn on one event loop, so a stall there (a long
callback, a garbage collection, a burst of socket writes) is added to every command and
update in flight. A timer every ``interval_s`` notes how late it woke; the lateness goes
into ``debrief_event_loop_lag_seconds`` on /metrics. A stall of ``d`` seconds wakes the
timer at least ``d - interval_s`` late, so stalls longer than the interval are always
counted and shorter ones by chance; the loop's timers have about a millisecond's grain.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from debrief.tasks import cancel_and_wait

INTERVAL_S = 0.025  # 40 wake-ups a second: ~0.05 % of a core


class Observer(Protocol):
    def observe(self, amount: float) -> None: ...  # a prometheus Histogram is one


class LoopLag:
    def __init__(self, histogram: Observer, interval_s: float = INTERVAL_S) -> None:
        self.histogram = histogram
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.interval_s
            await asyncio.sleep(self.interval_s)
            self.histogram.observe(max(0.0, loop.time() - due))
