"""Shared fixtures: a real `debrief serve` process with SQLite in a temp dir."""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from debrief.storage.base import Storage
from debrief.storage.sqlite import SQLiteStorage
from support.server import ServerProcess
from support.teams import Team, new_team


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "data").start()
    try:
        yield proc
    finally:
        proc.stop()


# One server for a whole test module (teams keep its tests apart), a client to it and a
# new team. A module that defines its own `http` or `team` uses that one instead.


@pytest.fixture(scope="module")
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    proc = ServerProcess(Path(tmp_path_factory.mktemp(request.path.stem)) / "data").start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
async def http(shared_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=shared_server.url) as client:
        yield client


@pytest.fixture
async def team(http: httpx.AsyncClient) -> Team:
    return await new_team(http)


@pytest.fixture(params=["sqlite", "redis"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """Each test once on SQLite and once on the real Redis (a key prefix of its own)."""
    store: Storage
    if request.param == "redis":
        from debrief.storage.redis import RedisStorage

        prefix = f"debrief-test-{request.path.stem}-{secrets.token_hex(4)}:"
        store = RedisStorage("redis://127.0.0.1:6379/0", prefix=prefix)
    else:
        store = SQLiteStorage(tmp_path / "storage.sqlite3")
    await store.open()
    try:
        yield store
    finally:
        cleanup = getattr(store, "drop_everything", None)
        if cleanup is not None:
            await cleanup()
        await store.close()
