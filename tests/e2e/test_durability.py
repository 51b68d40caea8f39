"""Compaction keeps content; a doc that fails to load is never written over."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pycrdt import Map

from support.api import participant_review
from support.server import ServerProcess
from support.yclient import YClient, synced_client


def db_rows(data_dir: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "debrief.sqlite3") as db:
        return list(db.execute(sql))


async def test_compaction_then_restart_keeps_everything(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "d", env={"DEBRIEF_COMPACT_EVERY": "5"}).start()
    try:
        review, tok = await participant_review(server.url)
        writer = await synced_client(server.ws_url, review["id"], "timeline", tok)
        reader = await synced_client(server.ws_url, review["id"], "timeline", tok)
        seen = reader.doc.get("m", type=Map)
        for i in range(23):
            writer.doc.get("m", type=Map)[f"k{i}"] = i
            await reader.wait_for(lambda i=i: f"k{i}" in seen)
        await writer.close()
        await reader.close()
        server.stop()
        snapshots = db_rows(server.data_dir, "SELECT doc FROM doc_snapshots")
        assert (f"{review['id']}/timeline",) in snapshots
        left = db_rows(server.data_dir, "SELECT COUNT(*) FROM doc_updates")[0][0]
        assert isinstance(left, int) and left < 5
        server.start()
        again = await synced_client(server.ws_url, review["id"], "timeline", tok)
        assert again.doc.get("m", type=Map).to_py() == {f"k{i}": i for i in range(23)}
        await again.close()
    finally:
        server.stop()


async def test_doc_that_fails_to_load_is_refused_and_left_untouched(server: ServerProcess) -> None:
    review, tok = await participant_review(server.url)
    writer = await synced_client(server.ws_url, review["id"], "timeline", tok)
    writer.doc.get("m", type=Map)["a"] = 1
    probe = await synced_client(server.ws_url, review["id"], "timeline", tok)
    await probe.wait_for(lambda: "a" in probe.doc.get("m", type=Map))
    await writer.close()
    await probe.close()
    server.stop()
    garbage = b"\x05\xff not a yjs update"
    with sqlite3.connect(server.data_dir / "debrief.sqlite3") as db:
        # the clean stop compacted the doc into a snapshot: corrupt that
        changed = db.execute("UPDATE doc_snapshots SET data = ?", (garbage,)).rowcount
        changed += db.execute("UPDATE doc_updates SET data = ?", (garbage,)).rowcount
    assert changed >= 1
    everything = (
        "SELECT 'u', seq, doc, data FROM doc_updates "
        "UNION ALL SELECT 's', upto, doc, data FROM doc_snapshots ORDER BY 1, 2, 3"
    )
    before = db_rows(server.data_dir, everything)
    server.start()
    broken = await YClient(server.ws_url, review["id"], "timeline", tok).connect()
    assert await broken.wait_closed() == 1011
    # other docs of the same review still work
    other = await synced_client(server.ws_url, review["id"], "recap", tok)
    await other.close()
    server.stop()
    after = db_rows(server.data_dir, everything)
    # untouched, except that the recap doc we opened may have been added
    assert [row for row in after if f"{review['id']}/timeline" == row[2]] == [
        row for row in before if f"{review['id']}/timeline" == row[2]
    ]
