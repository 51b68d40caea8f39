"""How many notes wait unrevealed: shown in the server's own awareness entry of the `room`
doc (issue 15), not written into the doc note by note.

Real server processes, real websocket clients. The counts come from the stored tally, so
a client that joins later, or after a restart, sees them too; nobody may pose as the
server; the doc itself stays as it was while hidden notes come in.
"""

from __future__ import annotations

import sqlite3

import httpx
from pycrdt import Map

from debrief.protocol import AwarenessFrame, SyncStep2, SyncUpdate, parse_frame
from debrief.protocol.awareness import SERVER_CLIENT_ID
from support.meeting import Review, open_review
from support.server import ServerProcess

FACTOR = "contributing-factor"


async def test_counts_reach_everyone_without_a_doc_edit_per_note(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        review = await open_review(server, http, "Counts")
        watcher = await review.client("observer", "room")
        before = watcher.doc.get_state()
        frames_before = len(watcher.received_frames)
        for text in ("Pager went to an old rota", "Runbook link was dead", "Nobody owned it"):
            await review.ok("participant", "POST", "/notes", {"text": text})
        await review.ok("scribe", "POST", "/notes", {"kind": "worked-well", "text": "Rollback"})
        await watcher.wait_for(lambda: watcher.note_counts() == {FACTOR: 3, "worked-well": 1})
        # nothing of the notes is in the doc, not even a count: its state never moved
        assert watcher.doc.get_state() == before
        assert watcher.doc.get("note_counts", type=Map).to_py() in ({}, None)
        # what came were awareness messages, no doc update; and the entry names nobody
        frames = [parse_frame(f) for f in watcher.received_frames[frames_before:]]
        assert frames and not any(isinstance(f, SyncUpdate | SyncStep2) for f in frames)
        assert sum(isinstance(f, AwarenessFrame) for f in frames) == 4
        assert watcher.awareness[SERVER_CLIENT_ID] == {"note_counts": {FACTOR: 3, "worked-well": 1}}

        await review.ok("moderator", "POST", "/reveal", {"section": FACTOR})
        await watcher.wait_for(lambda: watcher.note_counts().get(FACTOR) == 0)
        assert len(watcher.doc.get("notes", type=Map)) == 3
        assert watcher.note_counts()["worked-well"] == 1
        await watcher.close()


async def test_nobody_may_pose_as_the_server(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        review = await open_review(server, http, "Forged counts")
        mallory = await review.client("participant", "room")
        watcher = await review.client("observer", "room")
        forged = {"note_counts": {FACTOR: 99}}
        await mallory.set_awareness(forged, 10**9, client_id=SERVER_CLIENT_ID)
        await mallory.wait_for(lambda: len(mallory.denied) >= 1)
        assert "another participant" in mallory.denied[0]
        await review.ok("scribe", "POST", "/notes", {"text": "Alert was muted"})
        await watcher.wait_for(lambda: watcher.note_counts().get(FACTOR) == 1)
        # the forged state never reached anyone, and the server's clock is its own
        assert not any(b"99" in frame for frame in watcher.received_frames)
        for client in (mallory, watcher):
            await client.close()


TALLY = "SELECT data FROM records WHERE kind = 'note-tally' AND id = ?"


def stored_tally(server: ServerProcess, review_id: str) -> str:
    with sqlite3.connect(server.data_dir / "debrief.sqlite3") as db:
        (raw,) = db.execute(TALLY, (review_id,)).fetchone()
    return str(raw)


def change_stored(server: ServerProcess, statement: str, review_id: str) -> None:
    with sqlite3.connect(server.data_dir / "debrief.sqlite3") as db:
        db.execute(statement, (review_id,))


async def restart_and_count(server: ServerProcess, review: Review, shown: int) -> None:
    """Restart ``server`` on its data: a new observer is shown ``shown`` hidden notes, and
    one more after the next note (its clock goes above what was shown)."""
    restarted = ServerProcess(server.data_dir, port=server.port).start()
    try:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as http:
            review.http = http
            watcher = await review.client("observer", "room")
            await watcher.wait_for(lambda: watcher.note_counts().get(FACTOR) == shown)
            await review.ok("participant", "POST", "/notes", {"text": "one more"})
            await watcher.wait_for(lambda: watcher.note_counts().get(FACTOR) == shown + 1)
            await watcher.close()
    finally:
        restarted.stop()


async def test_a_later_joiner_sees_the_counts_after_a_restart(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        review = await open_review(server, http, "Restart")
        for i in range(2):  # nobody connected: no room loaded to show them in
            await review.ok("participant", "POST", "/notes", {"text": f"note {i}"})
        late = await review.client("observer", "room")
        await late.wait_for(lambda: late.note_counts().get(FACTOR) == 2)
        await late.close()
    server.stop()
    # a tally as the previous release stored it: no clock (and it counts the same)
    assert '"clock"' in stored_tally(server, review.id)
    change_stored(
        server,
        "UPDATE records SET data = json_remove(data, '$.clock') "
        "WHERE kind = 'note-tally' AND id = ?",
        review.id,
    )
    await restart_and_count(server, review, 2)


async def test_a_review_without_a_tally_is_counted_once_and_keeps_it(server: ServerProcess) -> None:
    """A review of a version before the tally: the first room to load counts its notes,
    under the review's lock, and stores the tally with a clock the next note goes above."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        review = await open_review(server, http, "No tally")
        for i in range(3):
            await review.ok("participant", "POST", "/notes", {"text": f"note {i}"})
    server.stop()
    change_stored(server, "DELETE FROM records WHERE kind = 'note-tally' AND id = ?", review.id)
    await restart_and_count(server, review, 3)
    raw = stored_tally(server, review.id)
    assert '"total":4' in raw.replace(" ", "") and '"clock"' in raw
