"""Fixtures of the rooms tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from debrief.storage.sqlite import SQLiteStorage


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStorage]:
    """A SQLite backend of its own, open for the test."""
    store = SQLiteStorage(tmp_path / "debrief.sqlite")
    await store.open()
    try:
        yield store
    finally:
        await store.close()
