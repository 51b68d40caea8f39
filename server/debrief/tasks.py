"""Stopping background tasks without swallowing the caller's own cancellation."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel ``tasks`` and wait until each has finished.

    ``with suppress(CancelledError): await task`` would also swallow a cancellation aimed
    at the caller (a shutdown step's timeout, say), which then waits on regardless.
    ``asyncio.wait`` lets that one through. What the tasks raised is marked as retrieved:
    they were being stopped, so their errors are not news.
    """
    for task in tasks:
        if task is not None:
            task.cancel()
    await wait_quietly(*tasks)


async def wait_quietly(*tasks: asyncio.Task[Any] | None) -> None:
    """Wait until each of ``tasks`` has finished, ignoring how it ended."""
    pending = [task for task in tasks if task is not None]
    if not pending:
        return
    await asyncio.wait(pending)
    for task in pending:
        if not task.cancelled():
            task.exception()
