"""A per-review readers-writer gate inside one process: commands share it, close takes it
alone.

Close waits for every command already running on the review, and a command that
arrives while close waits or runs queues behind it, so it then sees the closed review
(409). Writers go first, so a stream of commands cannot starve a close. Across
processes the review's storage lock (MeetingService.lock) does the same for close and
the commands that hold it; see closing.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field


@dataclass
class _State:
    readers: int = 0
    writing: bool = False
    writers_waiting: int = 0
    readers_waiting: int = 0  # a state with waiters must stay the review's state
    # Made when someone first has to wait: a command that finds the gate open (nearly
    # every one) counts itself in and out without it.
    _changed: asyncio.Condition | None = field(default=None, repr=False)

    @property
    def changed(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    def idle(self) -> bool:
        return not (
            self.readers or self.writing or self.writers_waiting or self.readers_waiting
        )


class ReviewGate:
    def __init__(self) -> None:
        self._states: dict[str, _State] = {}
        # Exclusive sections ended so far, on any review: a command that read its review
        # before taking the gate and finds this unchanged once in knows no close ran since.
        self.exclusive_runs = 0

    def _state(self, review_id: str) -> _State:
        found = self._states.get(review_id)
        if found is None:
            found = self._states[review_id] = _State()
        return found

    def _forget_if_idle(self, review_id: str, state: _State) -> None:
        if state.idle() and self._states.get(review_id) is state:
            del self._states[review_id]

    def shared(self, review_id: str) -> _Shared:
        """Held by a command for as long as it runs; waits while a close runs or waits."""
        return _Shared(self, review_id)

    @contextlib.asynccontextmanager
    async def exclusive(self, review_id: str) -> AsyncIterator[None]:
        state = self._state(review_id)
        async with state.changed:
            state.writers_waiting += 1
            try:
                await state.changed.wait_for(lambda: not state.writing and not state.readers)
            except BaseException:  # cancelled while waiting: let the readers in again
                state.writers_waiting -= 1
                state.changed.notify_all()
                self._forget_if_idle(review_id, state)
                raise
            state.writers_waiting -= 1
            state.writing = True
        try:
            yield
        finally:
            self.exclusive_runs += 1
            async with state.changed:
                state.writing = False
                state.changed.notify_all()
                self._forget_if_idle(review_id, state)


class _Shared:
    """`ReviewGate.shared`: in at once when no close runs or waits on the review (no
    await between that check and the count, so nothing can slip in between); the
    condition is only for waiting, and for telling a waiting close that one left."""

    __slots__ = ("gate", "review_id", "state")

    def __init__(self, gate: ReviewGate, review_id: str) -> None:
        self.gate = gate
        self.review_id = review_id

    async def __aenter__(self) -> None:
        state = self.state = self.gate._state(self.review_id)
        if not (state.writing or state.writers_waiting):
            state.readers += 1
            return
        async with state.changed:
            state.readers_waiting += 1
            try:
                await state.changed.wait_for(
                    lambda: not state.writing and not state.writers_waiting
                )
            finally:
                state.readers_waiting -= 1
            state.readers += 1

    async def __aexit__(self, *_: object) -> None:
        state = self.state
        state.readers -= 1
        if state.writers_waiting:  # a close waits for the last command to leave
            async with state.changed:
                state.changed.notify_all()
        self.gate._forget_if_idle(self.review_id, state)
