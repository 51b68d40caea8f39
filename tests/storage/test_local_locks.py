"""In-process storage locks: exclusive per name, and forgotten once nobody holds or
awaits them (a server touches many reviews over its life; each used to leave its locks)."""

from __future__ import annotations

import asyncio
from pathlib import Path

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
