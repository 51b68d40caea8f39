"""Group commit: writes made while a commit is in flight ride together in the next.

Both backends use it for doc appends: SQLite turns a batch into one transaction, Redis
into one pipeline. SQLite also batches record writes (one statement for a batch).
Batches are committed one at a time in the order they were queued, so appends to one
doc keep their order; each item of a batch gets its own result, or the batch's error.

``immediate`` is for a commit that costs no round trip (SQLite's writer thread): an
append that finds nothing in flight is handed to it at once by its caller, with no
task and no loop turn in between; appends made meanwhile queue for the next batch. A
commit that waits on the network (Redis) queues every append for the next loop turn
instead, so all rooms' appends of one turn share one round trip; committing the first
one alone would make the rest wait for two.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from debrief.storage.base import StorageError

Item = TypeVar("Item")
Result = TypeVar("Result")


class GroupCommit(Generic[Item, Result]):
    """``commit(items)`` must return one result per item, in order, once all are durable
    (an exception in place of a result: that item failed alone)."""

    def __init__(
        self, commit: Callable[[list[Item]], Awaitable[list[Result]]], *, immediate: bool = False
    ) -> None:
        self._commit = commit
        self._immediate = immediate
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._busy = False  # a commit is in flight: new writes queue behind it
        self._task: asyncio.Task[None] | None = None

    async def write(self, item: Item) -> Result:
        """Commit ``item``; its result once it is durable. A result that is an exception
        (the commit found this item alone at fault) is raised for this item only."""
        if self._immediate and not self._busy:
            self._busy = True
            try:
                result = (await self._commit_batch([item]))[0]
                if isinstance(result, BaseException):
                    raise result
                return result
            finally:
                self._busy = False
                self._start_queued()
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._start_queued()
        return await future

    async def _commit_batch(self, batch: list[Item]) -> list[Result]:
        try:
            return await self._commit(batch)
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(str(exc)) from exc

    def _start_queued(self) -> None:
        if self._queue and not self._busy:
            self._busy = True
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    results = await self._commit_batch([item for item, _ in batch])
                except StorageError as error:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._busy = False

    async def drain(self) -> None:
        """Wait for whatever is queued or in flight (on close)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)
