"""The lifespan's shutdown goes on past a step that hangs (app.within)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from debrief.app import within


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
