"""`ConnectionThread` and `settled`: jobs on a thread, a bounded wait that never cancels
a job, and housekeeping that runs after a job."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator

import pytest

from debrief.storage.sqlite_thread import ConnectionThread, settled


@contextlib.asynccontextmanager
async def memory_thread(name: str, release: threading.Event) -> AsyncIterator[ConnectionThread]:
    """A thread with an in-memory database; on the way out ``release`` is set (so no
    job of the test is left waiting on it) and the thread closed."""
    thread = ConnectionThread(name)
    await thread.open(lambda: sqlite3.connect(":memory:", check_same_thread=False))
    try:
        yield thread
    finally:
        release.set()
        await thread.close(5)


async def test_settled_gives_the_result_or_the_error() -> None:
    async with memory_thread("test-settled", threading.Event()) as thread:
        answer = thread.run(lambda db: db.execute("SELECT 41 + 1").fetchone())
        assert await settled(answer, 5) == (42,)
        with pytest.raises(sqlite3.OperationalError):
            await settled(thread.run(lambda db: db.execute("SELECT nonsense")), 5)


async def test_a_wait_that_ends_early_leaves_the_job_alone() -> None:
    release = threading.Event()
    async with memory_thread("test-settled-early", release) as thread:
        job = thread.run(lambda db: release.wait(10) and "done")
        with pytest.raises(TimeoutError):  # the timeout ends the wait
            await settled(job, 0.01)
        assert not job.done()
        waiting = asyncio.ensure_future(settled(job, 10))
        await asyncio.sleep(0)
        waiting.cancel()  # so does the caller's cancellation
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert not job.cancelled()
        release.set()
        assert await job == "done"  # the job ran to its end all the same


async def test_after_runs_once_the_result_is_out_and_before_the_next_job() -> None:
    result_seen = threading.Event()
    order: list[str] = []

    def after(db: sqlite3.Connection) -> None:
        # Held until the loop has the job's result: if `after` ran before the
        # result was sent, the wait below would time out.
        result_seen.wait(10)
        order.append("after")

    async with memory_thread("test-after", result_seen) as thread:
        job = thread.run(lambda db: db.execute("SELECT 7").fetchone(), after=after)
        assert await settled(job, 5) == (7,)
        assert thread.busy  # `after` still holds the thread: a stall there is seen
        result_seen.set()
        await settled(thread.run(lambda db: order.append("next")), 5)
        assert order == ["after", "next"]


async def test_an_after_that_fails_harms_neither_its_job_nor_the_next() -> None:
    def broken(db: sqlite3.Connection) -> None:
        db.execute("SELECT nonsense")

    async with memory_thread("test-after-fails", threading.Event()) as thread:
        assert await settled(thread.run(lambda db: "mine", after=broken), 5) == "mine"
        answer = thread.run(lambda db: db.execute("SELECT 1").fetchone())
        assert await settled(answer, 5) == (1,)
        # A job that fails is not followed by its `after`.
        ran: list[bool] = []
        failing = thread.run(
            lambda db: db.execute("SELECT nonsense"), after=lambda db: ran.append(True)
        )
        with pytest.raises(sqlite3.OperationalError):
            await settled(failing, 5)
        await settled(thread.run(lambda db: None), 5)
        assert ran == []
