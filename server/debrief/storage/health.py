"""Whether storage takes writes right now: ok, stalled (a write hangs) or full (no space).

A stuck or full data disk must neither stall the server nor make it flap. While storage
is not ok every new write fails at once with StorageUnavailable (the reason in words)
instead of queueing behind a write that hangs, or half succeeding on a disk with a few
free pages left. A probe, run every PROBE_EVERY_S while not ok, brings the state back
to ok on its own; whoever refused writes meanwhile (the rooms) is told then through
``when_ok`` and asks its clients for what they could not save.

The backend reports what it sees: ``stalled`` when a write lags past the bound,
``full`` when the database says so; ``watch`` gives it a way to say how long its
current write has been in flight, so a hang is noticed even with nobody waiting on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Literal

from debrief.storage.errors import StorageStalled, StorageUnavailable

log = logging.getLogger(__name__)

State = Literal["ok", "stalled", "full"]
PROBE_EVERY_S = 0.25
DEFAULT_STALL_S = 5.0

Probe = Callable[[], Awaitable[bool]]
Callback = Callable[[], None]


class StorageHealth:
    def __init__(self, stall_s: float = DEFAULT_STALL_S) -> None:
        self.stall_s = stall_s
        self._state: State = "ok"
        self.reason = ""
        self.since = time.time()  # wall clock of the last change, for /healthz
        self._in_flight_since: Callable[[], float | None] = lambda: None
        self._probe: Probe | None = None
        self._prober: asyncio.Task[None] | None = None
        self._waiting: list[Callable[[], Callback | None]] = []
        self._on_trouble: list[Callback] = []

    # --- what the backend tells ------------------------------------------------------

    def watch(self, in_flight_since: Callable[[], float | None], probe: Probe) -> None:
        """``in_flight_since``: time.monotonic() at which the current write started, None
        when idle. ``probe``: True once a small write goes through again."""
        self._in_flight_since = in_flight_since
        self._probe = probe

    def on_trouble(self, callback: Callback) -> None:
        """Called once each time the state leaves ok (the backend drops its queue)."""
        self._on_trouble.append(callback)

    def stalled(self, lagging_s: float | None = None) -> None:
        seconds = self.stall_s if lagging_s is None else lagging_s
        self._leave_ok(
            "stalled",
            f"storage is stalled: a write has not finished for {seconds:.1f} s "
            "(the data disk does not respond)",
        )

    def full(self, detail: str) -> None:
        self._leave_ok("full", f"storage is full: the data disk has no space left ({detail})")

    # --- what everyone else asks -----------------------------------------------------

    @property
    def state(self) -> State:
        if self._state == "ok":
            started = self._in_flight_since()
            if started is not None and time.monotonic() - started > self.stall_s:
                self.stalled(time.monotonic() - started)
        return self._state

    @property
    def ok(self) -> bool:
        return self.state == "ok"

    def check(self) -> None:
        """Raise StorageUnavailable unless storage takes writes right now."""
        if self.state != "ok":
            raise StorageUnavailable(self.reason, self._state)

    def lagging(self) -> StorageStalled:
        """The error for a caller whose write lagged past the bound (it may still land)."""
        self.stalled()
        return StorageStalled(self.reason, "stalled")

    def when_ok(self, callback: Callback) -> None:
        """Call ``callback`` (once) when storage is back to ok; soon if it already is.

        A bound method is held weakly: a room unloaded meanwhile is not kept alive."""
        ref: Callable[[], Callback | None]
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            ref = weakref.WeakMethod(callback)
        else:
            ref = lambda: callback  # noqa: E731
        if self.state == "ok":
            asyncio.get_running_loop().call_soon(_call, ref)
        else:
            self._waiting.append(ref)

    def to_dict(self) -> dict[str, object]:
        state = self.state
        return {"state": state, "reason": self.reason, "since": round(self.since, 3)}

    # --- transitions -----------------------------------------------------------------

    def _leave_ok(self, state: State, reason: str) -> None:
        if self._state == state or (self._state == "full" and state == "stalled"):
            return  # full says more than stalled; keep the first words
        was_ok = self._state == "ok"
        self._state, self.reason, self.since = state, reason, time.time()
        log.error("%s", reason)
        if was_ok:
            for callback in self._on_trouble:
                callback()
        if self._prober is None or self._prober.done():
            with contextlib.suppress(RuntimeError):  # no loop: nothing to probe from
                self._prober = asyncio.get_running_loop().create_task(self._recover())

    async def _recover(self) -> None:
        while self._state != "ok":
            await asyncio.sleep(PROBE_EVERY_S)
            if self._probe is None:
                continue
            try:
                recovered = await self._probe()
            except Exception as exc:  # a probe that breaks must not end the probing
                log.warning("storage probe failed: %s", exc)
                recovered = False
            if recovered:
                self._back_to_ok()

    def _back_to_ok(self) -> None:
        log.warning("storage is ok again after: %s", self.reason)
        self._state, self.reason, self.since = "ok", "", time.time()
        waiting, self._waiting = self._waiting, []
        for ref in waiting:
            _call(ref)

    async def close(self) -> None:
        prober, self._prober = self._prober, None
        if prober is not None:
            prober.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await prober


def _call(ref: Callable[[], Callback | None]) -> None:
    callback = ref()
    if callback is None:
        return
    try:
        callback()
    except Exception:
        log.exception("a storage recovery callback failed")
