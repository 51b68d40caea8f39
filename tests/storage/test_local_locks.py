"""In-process storage locks: exclusive per name, and forgotten once nobody holds or
awaits them (a server touches many reviews over its life; each used to leave its locks)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from debrief.storage import base
from debrief.storage.sqlite import SQLiteStorage


async def test_locks_are_exclusive_and_leave_nothing_behind(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "db.sqlite")
    await storage.open()
    try:
        before = len(base._LOCAL_LOCKS)
        inside: list[str] = []
        order: list[str] = []

        async def hold(name: str, tag: str) -> None:
            async with storage.lock(name):
                inside.append(tag)
                assert len([t for t in inside if t.startswith(name)]) == 1, "two holders at once"
                await asyncio.sleep(0)
                order.append(tag)
                inside.remove(tag)

        await asyncio.gather(*(hold(f"review:{n % 3}", f"review:{n % 3}#{n}") for n in range(30)))
        assert len(order) == 30
        for n in range(500):
            async with storage.lock(f"review:r{n}"):
                pass
        assert len(base._LOCAL_LOCKS) == before
    finally:
        await storage.close()


async def test_a_waiter_cancelled_in_the_queue_leaves_nothing_behind(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "db.sqlite")
    await storage.open()
    try:
        before = len(base._LOCAL_LOCKS)
        holding = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with storage.lock("review:x"):
                holding.set()
                await release.wait()

        async def waiter() -> None:
            async with storage.lock("review:x"):
                raise AssertionError("a cancelled waiter must never get the lock")

        first = asyncio.create_task(holder())
        await holding.wait()
        second = asyncio.create_task(waiter())
        await asyncio.sleep(0)  # queued behind the holder
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        release.set()
        await first
        assert len(base._LOCAL_LOCKS) == before
        async with storage.lock("review:x"):  # and the name is free for the next one
            pass
    finally:
        await storage.close()
