"""Group commit: appends made while a commit is in flight ride together in the next.

Both backends use it: SQLite turns a batch into one transaction, Redis into one
pipeline. Appends to one doc keep their order, because batches are committed one at a
time in the order they were queued.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from debrief.storage.base import StorageError

CommitBatch = Callable[[list[tuple[str, bytes]]], Awaitable[list[str]]]


class GroupCommit:
    def __init__(self, commit: CommitBatch) -> None:
        self._commit = commit
        self._queue: list[tuple[str, bytes, asyncio.Future[str]]] = []
        self._task: asyncio.Task[None] | None = None

    async def append(self, key: str, update: bytes) -> str:
        """Queue ``update`` for ``key``; return its position once it is durable."""
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._queue.append((key, update, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                positions = await self._commit([(key, update) for key, update, _ in batch])
            except Exception as exc:
                error = exc if isinstance(exc, StorageError) else StorageError(str(exc))
                for _, _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, _, future), position in zip(batch, positions, strict=True):
                if not future.done():
                    future.set_result(position)

    async def drain(self) -> None:
        """Wait for whatever is queued or in flight (on close)."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._task)
