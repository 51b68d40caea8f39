"""A full data disk must not make the server flap (issue 14 item 6).

Once SQLite says the disk is full, every write is refused until space returns: a
client's change with a "storage is full" refusal (its connection stays open), a POST
with 503 JSON, /healthz with 503 "full". Freed, storage recovers on its own and asks
the refused clients for what they kept: zero loss, and nobody closed with 1011.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pycrdt import Map

from support.api import participant_review
from support.loopfs import fill, loop_ext4
from support.server import ServerProcess, wait_until
from support.yclient import YClient, synced_client

PROMPT_S = 3.0
VALUE = "x" * 3000  # a few pages of WAL per write: the full disk shows within a few


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with loop_ext4(tmp_path) as mount_point:
        yield mount_point


@pytest.fixture
def server(tmp_path: Path, disk: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "logs", args=["--data", str(disk)])
    try:
        yield process.start()
    finally:
        process.stop()
        with contextlib.suppress(FileNotFoundError):
            (disk / "filler").unlink()


async def healthz(server: ServerProcess) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=PROMPT_S) as http:
        return await http.get("/healthz")


def refused_for_storage(client: YClient) -> list[str]:
    return [reason for reason in client.denied if reason.startswith("storage")]


async def test_full_disk_refuses_writes_without_closing_and_loses_nothing(
    server: ServerProcess, disk: Path
) -> None:
    review, token = await participant_review(server.url)
    writer = await synced_client(server.ws_url, review["id"], "timeline", token)
    watcher = await synced_client(server.ws_url, review["id"], "timeline", token)
    edits = writer.doc.get("m", type=Map)
    edits["k0"] = VALUE
    await watcher.wait_for(lambda: "k0" in watcher.doc.get("m", type=Map))

    filler = fill(disk)
    written = 1
    while not refused_for_storage(writer):  # the WAL may still have room for a few
        assert written < 400, "no write was refused on a full disk"
        edits[f"k{written}"] = VALUE
        written += 1
        await writer.wait_for(
            lambda n=written: (
                bool(refused_for_storage(writer)) or f"k{n - 1}" in watcher.doc.get("m", type=Map)
            ),
            timeout=10,
        )
    reason = refused_for_storage(writer)[0]
    assert reason.startswith("storage is full: your change was not saved"), reason

    # refused, not failed: the next changes are refused at once, the connection stays
    for extra in range(3):
        edits[f"full{extra}"] = VALUE
        await writer.wait_for(lambda e=extra: len(refused_for_storage(writer)) >= 2 + e)
    health = await healthz(server)
    assert health.status_code == 503, health.text
    assert health.json()["health"]["state"] == "full"
    assert "full" in health.json()["health"]["reason"]
    async with httpx.AsyncClient(base_url=server.url, timeout=PROMPT_S) as http:
        created = await http.post("/api/reviews", json={"title": "On a full disk"})
    assert created.status_code == 503, created.text
    assert created.json()["error"] == "storage-unavailable"
    assert "full" in created.json()["detail"]
    assert "too many" not in " ".join(writer.denied)  # storage refusals are not counted

    filler.unlink()

    async def healthy() -> bool:
        return (await healthz(server)).status_code == 200

    await wait_until(healthy, timeout=15)
    # storage asked the refused writer for everything: every edit arrives, none lost
    expected = {f"k{i}" for i in range(written)} | {f"full{i}" for i in range(3)}
    await watcher.wait_for(lambda: set(watcher.doc.get("m", type=Map).keys()) == expected)
    fresh = await synced_client(server.ws_url, review["id"], "timeline", token)
    assert set(fresh.doc.get("m", type=Map).keys()) == expected
    closes = [c.close_code for c in (writer, watcher, fresh) if c.closed.is_set()]
    assert closes == []  # nobody was closed, with 1011 or anything else
    for client in (writer, watcher, fresh):
        await client.close()
    async with httpx.AsyncClient(base_url=server.url, timeout=PROMPT_S) as http:
        created = await http.post("/api/reviews", json={"title": "Space is back"})
    assert created.status_code == 201, created.text
