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
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    readers: int = 0
    writing: bool = False
    writers_waiting: int = 0
    readers_waiting: int = 0  # a state with waiters must stay the review's state

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

    @contextlib.asynccontextmanager
    async def shared(self, review_id: str) -> AsyncIterator[None]:
        state = self._state(review_id)
        async with state.changed:
            state.readers_waiting += 1
            try:
                await state.changed.wait_for(
                    lambda: not state.writing and not state.writers_waiting
                )
            finally:
                state.readers_waiting -= 1
            state.readers += 1
        try:
            yield
        finally:
            async with state.changed:
                state.readers -= 1
                state.changed.notify_all()
                self._forget_if_idle(review_id, state)

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
