"""The lifespan's shutdown goes on past a step that hangs (app.within)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from debrief.app import within
from debrief.tasks import cancel_and_wait, wait_quietly


async def test_a_stuck_step_is_logged_and_left_behind(caplog: pytest.LogCaptureFixture) -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    with caplog.at_level(logging.WARNING, logger="debrief.app"):
        await within(0.05, never, "stopping the relay")
    assert never.cancelled()
    assert "stopping the relay took over" in caplog.text


async def test_a_step_that_finishes_is_awaited_quietly(caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []

    async def step() -> None:
        await asyncio.sleep(0)
        done.append("flushed")

    with caplog.at_level(logging.WARNING, logger="debrief.app"):
        await within(5, step(), "flushing the rooms")
    assert done == ["flushed"] and not caplog.text


async def test_stopping_a_stubborn_task_still_ends_at_the_steps_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """cancel_and_wait lets the step's own timeout through; suppressing CancelledError
    around ``await task`` swallowed it and the step waited forever."""
    release = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await release.wait()  # a cleanup that does not finish

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)  # let it start sleeping
    with caplog.at_level(logging.WARNING, logger="debrief.app"):
        await within(0.05, cancel_and_wait(task), "stopping the relay")
    assert "stopping the relay took over" in caplog.text
    assert not task.done()
    release.set()
    await wait_quietly(task)
    assert task.done() and not task.cancelled()


async def test_cancel_and_wait_does_not_raise_what_the_tasks_raised() -> None:
    async def fails() -> None:
        raise RuntimeError("lost redis")

    task = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await cancel_and_wait(task, None)
    assert isinstance(task.exception(), RuntimeError)
