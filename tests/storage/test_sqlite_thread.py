"""`ConnectionThread` and `settled`: jobs on a thread, a bounded wait that never cancels
a job, and housekeeping that runs after a job."""

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


async def test_after_runs_once_the_result_is_out_and_before_the_next_job() -> None:
    thread = ConnectionThread("test-after")
    await thread.open(lambda: sqlite3.connect(":memory:", check_same_thread=False))
    result_seen = threading.Event()
    order: list[str] = []

    def after(db: sqlite3.Connection) -> None:
        # Held until the loop has the job's result: if `after` ran before the
        # result was sent, the wait below would time out.
        result_seen.wait(10)
        order.append("after")

    try:
        job = thread.run(lambda db: db.execute("SELECT 7").fetchone(), after=after)
        assert await settled(job, 5) == (7,)
        assert thread.busy  # `after` still holds the thread: a stall there is seen
        result_seen.set()
        nxt = thread.run(lambda db: order.append("next"))
        await settled(nxt, 5)
        assert order == ["after", "next"]
    finally:
        result_seen.set()
        await thread.close(5)


async def test_an_after_that_fails_harms_neither_its_job_nor_the_next() -> None:
    thread = ConnectionThread("test-after-fails")
    await thread.open(lambda: sqlite3.connect(":memory:", check_same_thread=False))

    def broken(db: sqlite3.Connection) -> None:
        db.execute("SELECT nonsense")

    try:
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
    finally:
        await thread.close(5)
