"""Group commit: appends made while a commit is in flight ride together in the next.

Both backends use it: SQLite turns a batch into one transaction, Redis into one
pipeline. Batches are committed one at a time in the order they were queued, so
appends to one doc keep their order.

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

from debrief.storage.base import StorageError

CommitBatch = Callable[[list[tuple[str, bytes]]], Awaitable[list[str]]]


class GroupCommit:
    def __init__(self, commit: CommitBatch, *, immediate: bool = False) -> None:
        self._commit = commit
        self._immediate = immediate
        self._queue: list[tuple[str, bytes, asyncio.Future[str]]] = []
        self._busy = False  # a commit is in flight: new appends queue behind it
        self._task: asyncio.Task[None] | None = None

    async def append(self, key: str, update: bytes) -> str:
        """Commit ``update`` for ``key``; return its position once it is durable."""
        if self._immediate and not self._busy:
            self._busy = True
            try:
                return (await self._commit_batch([(key, update)]))[0]
            finally:
                self._busy = False
                self._start_queued()
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queue.append((key, update, future))
        self._start_queued()
        return await future

    async def _commit_batch(self, batch: list[tuple[str, bytes]]) -> list[str]:
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
                pairs = [(key, update) for key, update, _ in batch]
                try:
                    positions = await self._commit_batch(pairs)
                except StorageError as error:
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, _, future), position in zip(batch, positions, strict=True):
                    if not future.done():
                        future.set_result(position)
        finally:
            self._busy = False

    async def drain(self) -> None:
        """Wait for whatever is queued or in flight (on close)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)
