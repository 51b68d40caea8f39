"""`debrief backup` while a server writes, then `debrief restore` into a fresh place and a
server started on it: every review and every doc edit made before the backup is there,
and the edits made during it form an unbroken prefix (the copy is one instant)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import redis
from pycrdt import Map

from support.api import create_review, join
from support.scaleout import SHARED_REDIS, drop_prefix
from support.server import ROOT, ServerProcess
from support.yclient import YClient, synced_client


@dataclass
class Place:
    """Where a server keeps its data, and the options that name it on the command line."""

    backend: str
    data_dir: Path
    prefix: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def options(self) -> list[str]:
        if self.backend == "redis":
            return ["--redis", SHARED_REDIS, "--redis-prefix", self.prefix]
        return ["--data", str(self.data_dir)]

    def server(self) -> ServerProcess:
        args = ["--redis", SHARED_REDIS] if self.backend == "redis" else []
        return ServerProcess(self.data_dir, env=self.env, args=args)


@pytest.fixture(params=["sqlite", "redis"])
def places(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[Place]]:
    """A live place and a fresh one to restore into (Redis: same secret, two prefixes)."""
    backend = request.param
    env = {"DEBRIEF_SECRET_KEY": secrets.token_urlsafe(32)} if backend == "redis" else {}
    made = []
    for name in ("live", "restored"):
        prefix = f"debrief-test-{secrets.token_hex(4)}:" if backend == "redis" else ""
        place_env = {**env, "DEBRIEF_REDIS_PREFIX": prefix} if prefix else {}
        made.append(Place(backend, tmp_path / name, prefix, place_env))
    yield made
    for place in made:
        if place.prefix:
            drop_prefix(SHARED_REDIS, place.prefix)


async def debrief(*args: str) -> tuple[int, str]:
    """Run the real `debrief` command; its exit status and output."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "debrief.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=ROOT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def attendee_names(base: str, review_id: str, token: str) -> list[str]:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.get(
            f"/api/reviews/{review_id}/attendees", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        return sorted(a["name"] for a in response.json()["attendees"])


@dataclass
class Pair:
    """A writing and a reading client on one doc: a key the reader has seen is durable."""

    writer: YClient
    reader: YClient

    async def put(self, i: int) -> None:
        self.writer.doc.get("m", type=Map)[f"k{i}"] = i
        seen = self.reader.doc.get("m", type=Map)
        await self.reader.wait_for(lambda: f"k{i}" in seen)

    async def close(self) -> None:
        await self.writer.close()
        await self.reader.close()


async def pair(server: ServerProcess, review_id: str, token: str) -> Pair:
    return Pair(
        await synced_client(server.ws_url, review_id, "timeline", token),
        await synced_client(server.ws_url, review_id, "timeline", token),
    )


async def write_alternately(pairs: list[Pair], start: int, stop: asyncio.Event) -> int:
    """k<i> into the first review's doc, then into the second's, i = start, start+1, ...
    until ``stop``; the number of keys the first doc has then."""
    i = start
    while not stop.is_set():
        for each in pairs:
            await each.put(i)
        i += 1
    return i


async def restored_keys(server: ServerProcess, review_id: str, token: str) -> int:
    """How many keys the doc has after the restore; they must be k0.. without a gap."""
    client = await synced_client(server.ws_url, review_id, "timeline", token)
    content = client.doc.get("m", type=Map).to_py() or {}
    await client.close()
    assert content == {f"k{i}": i for i in range(len(content))}
    return len(content)


async def test_backup_while_writing_then_restore(places: list[Place], tmp_path: Path) -> None:
    live, fresh = places
    backup_file = tmp_path / "debrief.backup"
    server = live.server().start()
    try:
        first = await create_review(server.url, "Checkout outage")
        second = await create_review(server.url, "Search latency")
        ann = await join(server.url, first["invites"]["participant"], "Ann")
        bob = await join(server.url, second["invites"]["participant"], "Bob")
        pairs = [await pair(server, first["id"], ann["token"])]
        pairs.append(await pair(server, second["id"], bob["token"]))
        before = 20
        for i in range(before):
            await asyncio.gather(*(each.put(i) for each in pairs))

        stop = asyncio.Event()
        writing = asyncio.create_task(write_alternately(pairs, before, stop))
        status, output = await debrief("backup", str(backup_file), *live.options)
        stop.set()
        written = await writing
        assert status == 0, output
        assert "backed up 2 reviews" in output
        assert written > before  # the server kept writing while the backup ran
        for each in pairs:
            await each.close()

        status, output = await debrief("restore", str(backup_file), *fresh.options)
        assert status == 0, output
        assert "restored 2 reviews" in output
    finally:
        server.stop()

    restored = fresh.server().start()
    try:
        # Sessions made before the backup still work: the signing key came along.
        assert await attendee_names(restored.url, first["id"], ann["token"]) == ["Ann"]
        assert await attendee_names(restored.url, second["id"], bob["token"]) == ["Bob"]
        in_first = await restored_keys(restored, first["id"], ann["token"])
        in_second = await restored_keys(restored, second["id"], bob["token"])
        assert before <= in_first <= written
        # One instant of the whole store: the second doc is never ahead of the first,
        # and at most one key behind (the write between the two at that instant).
        assert in_second <= in_first <= in_second + 1
        # Invites restored too: a newcomer joins the second review.
        newcomer = await join(restored.url, second["invites"]["participant"], "Cy")
        assert newcomer["review_id"] == second["id"]

        # A running server's data is never written over, even with --force.
        status, output = await debrief("restore", str(backup_file), *fresh.options, "--force")
        assert status == 1 and "stop" in output, output
    finally:
        restored.stop()

    # Stopped, but there is data: only with --force.
    status, output = await debrief("restore", str(backup_file), *fresh.options)
    assert status == 1 and "--force" in output, output
    status, output = await debrief("restore", str(backup_file), *fresh.options, "--force")
    assert status == 0, output


async def test_restore_refuses_what_is_not_its_backup(tmp_path: Path) -> None:
    sqlite_backup, redis_backup = tmp_path / "sqlite.backup", tmp_path / "redis.backup"
    server = ServerProcess(tmp_path / "live").start()
    server.stop()
    status, output = await debrief("backup", str(sqlite_backup), "--data", str(tmp_path / "live"))
    assert status == 0, output
    prefix = f"debrief-test-{secrets.token_hex(4)}:"
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        client.set(prefix + "rec:review:r_1", "x")
        client.set(prefix + "lock:review:r_1", "held", px=60_000)  # process state: skipped
        redis_options = ["--redis", SHARED_REDIS, "--redis-prefix", prefix]
        status, output = await debrief("backup", str(redis_backup), *redis_options)
        assert status == 0 and "1 review, 1 key," in output, output
    finally:
        drop_prefix(SHARED_REDIS, prefix)
        client.close()

    target = ["--data", str(tmp_path / "new")]
    status, output = await debrief("restore", str(redis_backup), *target)
    assert status == 1 and "Redis backup" in output, output
    status, output = await debrief("restore", str(sqlite_backup), "--redis", SHARED_REDIS)
    assert status == 1 and "SQLite backup" in output, output
    junk = tmp_path / "junk"
    junk.write_text("hello")
    status, output = await debrief("restore", str(junk), *target)
    assert status == 1 and "not a Debrief backup" in output, output
    other = tmp_path / "other.sqlite3"
    with contextlib.closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE t (x)")
    status, output = await debrief("restore", str(other), *target)
    assert status == 1 and "not a Debrief backup" in output, output
    assert not (tmp_path / "new" / "debrief.sqlite3").exists()
    status, output = await debrief("backup", str(tmp_path / "b2"), "--data", str(tmp_path / "none"))
    assert status == 1 and "no Debrief database" in output, output
