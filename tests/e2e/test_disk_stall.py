"""A frozen data disk (fsfreeze) must not stall the server (issue 14 item 5).

The writes of one review wait on the disk; past the bound (DEBRIEF_STORAGE_STALL_S) its
clients are closed with 1011, /healthz says why, and other reviews' reads still answer.
Thawed, storage recovers on its own and nothing acknowledged before is lost.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pycrdt import Map

from support.api import participant_review
from support.loopfs import freeze, loop_ext4, thaw
from support.server import ServerProcess, wait_until
from support.yclient import synced_client

STALL_S = 2.0
PROMPT_S = 3.0  # an answer slower than this counts as hanging


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with loop_ext4(tmp_path) as mount_point:
        yield mount_point


@pytest.fixture
def server(tmp_path: Path, disk: Path) -> Iterator[ServerProcess]:
    # the log stays off the frozen disk: only the database lives there
    process = ServerProcess(
        tmp_path / "logs",
        env={"DEBRIEF_STORAGE_STALL_S": str(STALL_S)},
        args=["--data", str(disk)],
    )
    try:
        yield process.start()
    finally:
        with contextlib.suppress(Exception):
            thaw(disk)
        process.stop()


async def healthz(server: ServerProcess) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=PROMPT_S) as http:
        return await http.get("/healthz")


async def test_frozen_disk_closes_the_writers_and_keeps_reads_answering(
    server: ServerProcess, disk: Path
) -> None:
    review_a, token_a = await participant_review(server.url)
    review_b, token_b = await participant_review(server.url)
    writer = await synced_client(server.ws_url, review_a["id"], "timeline", token_a)
    watcher = await synced_client(server.ws_url, review_a["id"], "timeline", token_a)
    other = await synced_client(server.ws_url, review_b["id"], "timeline", token_b)
    writer.doc.get("m", type=Map)["before"] = 1
    other.doc.get("m", type=Map)["b"] = 1
    await watcher.wait_for(lambda: "before" in watcher.doc.get("m", type=Map))
    b_seen = await synced_client(server.ws_url, review_b["id"], "timeline", token_b)
    await b_seen.wait_for(lambda: "b" in b_seen.doc.get("m", type=Map))
    await b_seen.close()

    async def only_timelines_loaded() -> bool:
        # the reviews' `room` docs are unloaded (and compacted) after a grace: before the
        # freeze, so that the writer's update is the first write to hang
        return (await healthz(server)).json()["rooms"] == 2

    await wait_until(only_timelines_loaded, timeout=10)
    freeze(disk)
    writer.doc.get("m", type=Map)["during"] = 2
    # the write hangs on the disk: past the bound the room's clients are closed
    with contextlib.suppress(TimeoutError):
        await writer.wait_closed(timeout=STALL_S + 10)
    assert writer.close_code == 1011, f"not closed with 1011; refusals: {writer.denied}"
    assert await watcher.wait_closed(timeout=5) == 1011

    health = await healthz(server)
    assert health.status_code == 503, health.text
    assert health.json()["status"] == "storage-unavailable"
    assert health.json()["health"]["state"] == "stalled"
    assert "stalled" in health.json()["health"]["reason"]

    async with httpx.AsyncClient(base_url=server.url, timeout=PROMPT_S) as http:
        created = await http.post("/api/reviews", json={"title": "During the freeze"})
        assert created.status_code == 503, created.text
        assert created.json()["error"] == "storage-unavailable"
        assert "stalled" in created.json()["detail"]
        # another review's reads: an HTTP read and a new client syncing its doc
        attendees = await http.get(
            f"/api/reviews/{review_b['id']}/attendees",
            headers={"Authorization": f"Bearer {token_b}"},
        )
        assert attendees.status_code == 200, attendees.text
    reader = await synced_client(server.ws_url, review_b["id"], "timeline", token_b)
    await reader.wait_for(lambda: reader.doc.get("m", type=Map).to_py() == {"b": 1}, timeout=5)
    assert other.close_code is None and not other.closed.is_set()
    await reader.close()

    thaw(disk)

    async def healthy() -> bool:
        return (await healthz(server)).status_code == 200

    await wait_until(healthy, timeout=15)
    again = await synced_client(server.ws_url, review_a["id"], "timeline", token_a)
    seen = again.doc.get("m", type=Map)
    assert seen["before"] == 1  # acknowledged before the freeze
    seen["after"] = 3
    check = await synced_client(server.ws_url, review_a["id"], "timeline", token_a)
    await check.wait_for(lambda: "after" in check.doc.get("m", type=Map))
    await again.close()
    await check.close()
    await other.close()
    async with httpx.AsyncClient(base_url=server.url, timeout=PROMPT_S) as http:
        created = await http.post("/api/reviews", json={"title": "After the thaw"})
        assert created.status_code == 201, created.text
