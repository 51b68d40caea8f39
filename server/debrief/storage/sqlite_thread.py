"""One thread owning one SQLite connection; the event loop hands it jobs and awaits them.

Jobs run one at a time in the order they were given. The thread is a daemon: one stuck
in a syscall on a frozen disk must not keep the process from exiting. Jobs still
waiting behind a stuck one can be dropped (``drop_waiting``): they then never run, and
whoever awaits them gets the error at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Connect = Callable[[], sqlite3.Connection]


def _wake(waiter: asyncio.Future[None], *_: object) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def settled(future: asyncio.Future[T], timeout: float) -> T:
    """What ``future`` settles with, waiting at most ``timeout`` (TimeoutError after).

    ``asyncio.wait_for(asyncio.shield(future), timeout)`` at about half its cost: one
    waiter and one timer, no task. As with it, ``future`` goes on when the wait ends
    early, by the timeout or by the caller's cancellation: a job already handed to a
    thread runs anyway, and its outcome is still there for whoever looks.
    """
    if not future.done():
        loop = future.get_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        wake = functools.partial(_wake, waiter)
        future.add_done_callback(wake)
        timer = loop.call_later(timeout, wake)
        try:
            await waiter
        finally:
            timer.cancel()
            future.remove_done_callback(wake)
        if not future.done():
            raise TimeoutError
    return future.result()


class _Job(Generic[T]):
    __slots__ = ("after", "args", "dropped", "fn", "future", "loop", "started")

    def __init__(
        self,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        future: asyncio.Future[T],
        loop: asyncio.AbstractEventLoop,
        after: Callable[[sqlite3.Connection], object] | None = None,
    ) -> None:
        self.fn = fn
        self.args = args
        self.future = future
        self.loop = loop
        self.after = after
        self.started = False
        self.dropped = False


class ConnectionThread:
    def __init__(self, name: str) -> None:
        self.name = name
        self.db: sqlite3.Connection | None = None
        # time.monotonic() at which the running job started; None while idle
        self.busy_since: float | None = None
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._waiting: set[_Job[Any]] = set()
        self._lock = threading.Lock()  # a job is either started or dropped, never both
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    async def open(self, connect: Connect) -> None:
        """Open the connection on the thread itself (and before it is needed: opening
        one on a frozen disk blocks, using one already open does not, for reads)."""

        def opened(_: None) -> None:
            self.db = connect()

        await self.run(opened)

    def run(
        self,
        fn: Callable[..., T],
        *args: Any,
        after: Callable[[sqlite3.Connection], object] | None = None,
    ) -> asyncio.Future[T]:
        """Queue ``fn(db, *args)``; the future settles on the loop once it ran.

        ``after(db)``, if given, runs on the thread once ``fn`` succeeded and its result
        is on its way to the loop, before the next job: housekeeping nobody waits for.
        Its errors are dropped; the thread counts as busy until it is done."""
        loop = asyncio.get_running_loop()
        job: _Job[T] = _Job(fn, args, loop.create_future(), loop, after)
        with self._lock:
            self._waiting.add(job)
        self._jobs.put(job)
        return job.future

    def drop_waiting(self, error: BaseException) -> None:
        """Jobs that have not started never will; their futures fail with ``error``."""
        with self._lock:
            waiting, self._waiting = self._waiting, set()
            for job in waiting:
                job.dropped = True
        for job in waiting:
            if not job.future.done():
                job.future.set_exception(error)

    @property
    def busy(self) -> bool:
        return self.busy_since is not None

    async def close(self, timeout: float) -> None:
        """Close the connection and end the thread; wait at most ``timeout`` for it (a
        thread stuck on a frozen disk is left behind: it is a daemon)."""

        def shut(db: sqlite3.Connection | None) -> None:
            if db is not None:
                db.close()
            self.db = None

        future = self.run(shut)
        future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._jobs.put(None)
        with contextlib.suppress(TimeoutError, sqlite3.Error):
            await settled(future, timeout)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            with self._lock:
                if job.dropped:
                    continue
                self._waiting.discard(job)
                job.started = True
            self.busy_since = time.monotonic()
            try:
                result = job.fn(self.db, *job.args)
            except BaseException as exc:
                self._settle(job, None, exc)
            else:
                self._settle(job, result, None)
                if job.after is not None and self.db is not None:
                    with contextlib.suppress(Exception):
                        job.after(self.db)
            finally:
                self.busy_since = None
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.close()
            self.db = None

    @staticmethod
    def _settle(job: _Job[Any], result: Any, error: BaseException | None) -> None:
        def settle() -> None:
            if job.future.done():  # the caller gave up (cancelled, or dropped it)
                return
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            job.loop.call_soon_threadsafe(settle)
