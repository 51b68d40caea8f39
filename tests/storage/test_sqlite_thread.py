"""`settled`: a bounded wait on a thread's job that never cancels the job."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from debrief.storage.sqlite_thread import ConnectionThread, settled


async def test_settled_gives_the_result_or_the_error() -> None:
    thread = ConnectionThread("test-settled")
    await thread.open(lambda: sqlite3.connect(":memory:", check_same_thread=False))
    try:
        answer = thread.run(lambda db: db.execute("SELECT 41 + 1").fetchone())
        assert await settled(answer, 5) == (42,)
        with pytest.raises(sqlite3.OperationalError):
            await settled(thread.run(lambda db: db.execute("SELECT nonsense")), 5)
    finally:
        await thread.close(5)


async def test_a_wait_that_ends_early_leaves_the_job_alone() -> None:
    thread = ConnectionThread("test-settled-early")
    await thread.open(lambda: sqlite3.connect(":memory:", check_same_thread=False))
    release = threading.Event()
    try:
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
    finally:
        release.set()
        await thread.close(5)
