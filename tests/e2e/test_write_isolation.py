"""One review writing as fast as it can is slowed down, not served at others' expense;
a doc stops growing at its bound with a clear refusal and stays usable (issue 14, 1-2)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import httpx
from pycrdt import Map

from support.api import participant_review
from support.server import ServerProcess
from support.yclient import YClient, synced_client

KIB = 1024


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} missing")


async def test_a_flooding_review_is_throttled_while_another_is_served(tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path / "d",
        env={
            # small rates so the flood lasts seconds: 320 KiB at 64 KiB/s
            "DEBRIEF_MAX_FRAME": str(128 * KIB),
            "DEBRIEF_WRITE_RATE": str(64 * KIB),
            "DEBRIEF_WRITE_BURST": "0",  # the burst is then one frame
            "DEBRIEF_REVIEW_WRITE_RATE": str(128 * KIB),
            "DEBRIEF_REVIEW_WRITE_BURST": "0",
        },
    ).start()
    try:
        review_a, tok_a = await participant_review(server.url)
        review_b, tok_b = await participant_review(server.url)
        flooder = await synced_client(server.ws_url, review_a["id"], "timeline", tok_a)
        watcher = await synced_client(server.ws_url, review_a["id"], "timeline", tok_a)
        writer = await synced_client(server.ws_url, review_b["id"], "timeline", tok_b)
        reader = await synced_client(server.ws_url, review_b["id"], "timeline", tok_b)

        flood = flooder.doc.get("m", type=Map)
        flooded = watcher.doc.get("m", type=Map)
        for i in range(8):  # one ~40 KB frame each, sent back to back
            flood[f"k{i}"] = secrets.token_urlsafe(30_000)

        # Review B goes on while A's flood is still being taken in, slowly.
        mine = writer.doc.get("m", type=Map)
        seen = reader.doc.get("m", type=Map)
        for i in range(5):
            mine[f"b{i}"] = "hello"
            await reader.wait_for(lambda i=i: f"b{i}" in seen)
        assert len(flooded) < 8, "review B was served only after A's flood"

        # Nothing of the flood is lost, and the flooder was slowed down, not closed.
        await watcher.wait_for(lambda: len(flooded) == 8, timeout=30)
        assert dict(flooded) == dict(flood)
        assert not flooder.closed.is_set() and not flooder.denied
        async with httpx.AsyncClient(base_url=server.url) as http:
            text = (await http.get("/metrics")).text
        assert metric(text, "debrief_writes_throttled_total") > 0
        for client in (flooder, watcher, writer, reader):
            await client.close()
    finally:
        server.stop()


async def test_a_doc_stops_at_its_bound_and_stays_usable(tmp_path: Path) -> None:
    bound = 300 * KIB
    env = {"DEBRIEF_MAX_DOC_BYTES": str(bound)}
    server = ServerProcess(tmp_path / "d", env=env).start()
    try:
        review, tok = await participant_review(server.url)
        other, other_tok = await participant_review(server.url)
        writer = await synced_client(server.ws_url, review["id"], "timeline", tok)
        watcher = await synced_client(server.ws_url, review["id"], "timeline", tok)
        entries = writer.doc.get("m", type=Map)
        seen = watcher.doc.get("m", type=Map)

        written = 0
        while not writer.denied:
            assert written < 20, "the doc grew past its bound"
            entries[f"k{written}"] = secrets.token_urlsafe(45_000)  # ~60 KB
            await _landed_or_refused(writer, watcher, seen, f"k{written}")
            written += 1
        assert "document is full (0.29" in writer.denied[0]
        assert 4 <= len(seen) < written  # what fit is kept; the last write was refused
        assert not writer.closed.is_set()  # a refusal, not a close

        # Other reviews are not affected.
        elsewhere = await synced_client(server.ws_url, other["id"], "timeline", other_tok)
        elsewhere.doc.get("m", type=Map)["x"] = "fine"
        check = await synced_client(server.ws_url, other["id"], "timeline", other_tok)
        await check.wait_for(lambda: "x" in check.doc.get("m", type=Map))

        # Deleting content makes room again (the refused client reloads first).
        kept = sorted(seen.keys())
        await writer.close()
        fresh = await synced_client(server.ws_url, review["id"], "timeline", tok)
        fresh_entries = fresh.doc.get("m", type=Map)
        for key in kept[:-1]:
            del fresh_entries[key]
        await watcher.wait_for(lambda: len(seen) == 1)
        await fresh.close()
        # The first write after the deletions may still be judged by the log before it
        # was compacted (the refusal starts that compaction); the next one fits.
        for _attempt in range(2):
            client = await synced_client(server.ws_url, review["id"], "timeline", tok)
            client.doc.get("m", type=Map)["after"] = secrets.token_urlsafe(45_000)
            await _landed_or_refused(client, watcher, seen, "after")
            await client.close()
            if "after" in seen:
                break
        assert "after" in seen
        for client in (watcher, elsewhere, check):
            await client.close()
    finally:
        server.stop()

    # After a restart the compacted doc loads whole, and it is within its bound.
    server = ServerProcess(tmp_path / "d", env=env).start()
    try:
        reader = await synced_client(server.ws_url, review["id"], "timeline", tok)
        loaded = reader.doc.get("m", type=Map)
        assert kept[-1] in loaded and len(loaded) == 2
        assert len(reader.doc.get_update()) < bound
        await reader.close()
    finally:
        server.stop()


async def _landed_or_refused(writer: YClient, watcher: YClient, seen: Map, key: str) -> None:
    """Until ``key`` reaches the watcher or the writer is refused."""
    landed = asyncio.create_task(watcher.wait_for(lambda: key in seen))
    refused = asyncio.create_task(writer.wait_for(lambda: bool(writer.denied)))
    done, pending = await asyncio.wait({landed, refused}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    for task in done:
        task.result()
