"""A review's note tally (meeting/note_tally.py) counts what the notes are, whatever happened.

A new note reads one small tally record instead of every note of its review; a delete drops
the tally and the next note counts afresh, and a stored tally of the wrong shape is counted
afresh too, never a 500. The caps (per review, per person) are what the tally feeds, so each
check here is a cap refusing at exactly the right note.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.api import create_review, join
from support.server import ServerProcess

CAP = "5"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "data", env={"DEBRIEF_MAX_REVIEW_NOTES": CAP}).start()
    yield proc
    proc.stop()


async def _write(http: httpx.AsyncClient, base: str, token: str, text: str) -> httpx.Response:
    note = {"kind": "worked-well", "text": text}
    return await http.post(f"{base}/notes", json=note, headers={"Authorization": f"Bearer {token}"})


async def test_delete_and_a_bad_stored_tally_recount(server: ServerProcess) -> None:
    review = await create_review(server.url)
    base = f"{server.url}/api/reviews/{review['id']}"
    token = (await join(server.url, review["invites"]["participant"]))["token"]
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient() as http:
        made = [(await _write(http, base, token, f"note {i}")).json()["id"] for i in range(4)]
        gone = await http.delete(f"{base}/notes/{made[0]}", headers=auth)
        assert gone.status_code in (200, 204), gone.text
        # 3 notes left: two more fit under the cap of 5, not one and not three
        assert (await _write(http, base, token, "after delete 1")).status_code == 201
        assert (await _write(http, base, token, "after delete 2")).status_code == 201
        full = await _write(http, base, token, "one too many")
        assert full.status_code == 409 and full.json()["error"] == "review-notes-full"
        second = await http.delete(f"{base}/notes/{made[1]}", headers=auth)
        assert second.status_code in (200, 204), second.text

    server.stop()
    with sqlite3.connect(server.data_dir / "debrief.sqlite3") as db:
        # a tally of the wrong shape, as a corrupt write would leave (the delete above
        # dropped the real one): it claims no notes at all
        db.execute(
            "INSERT OR REPLACE INTO records (kind, id, review_id, created, data) "
            "VALUES ('note-tally', ?, ?, 0, ?)",
            (review["id"], review["id"], json.dumps({"total": 0, "owners": []})),
        )
    server.start()

    async with httpx.AsyncClient() as http:
        # 4 notes stored: the bad tally (claiming 0 or nonsense) is ignored, the notes counted
        assert (await _write(http, base, token, "after restart")).status_code == 201
        full = await _write(http, base, token, "one too many again")
        assert full.status_code == 409 and full.json()["error"] == "review-notes-full"


def _stored_tally(server: ServerProcess, review_id: str) -> dict[str, object]:
    with sqlite3.connect(server.data_dir / "debrief.sqlite3") as db:
        row = db.execute(
            "SELECT data FROM records WHERE kind = 'note-tally' AND id = ?", (review_id,)
        ).fetchone()
    data: dict[str, object] = json.loads(row[0])
    return data


async def test_a_note_knows_its_section_is_revealed_from_the_tally_or_an_older_one(
    server: ServerProcess,
) -> None:
    """The tally keeps the revealed sections, written with the reveal; a tally stored by an
    older version has none, and the next note reads them from the room doc instead."""
    review = await create_review(server.url)
    base = f"{server.url}/api/reviews/{review['id']}"
    moderator = (await join(server.url, review["invites"]["moderator"]))["token"]
    token = (await join(server.url, review["invites"]["participant"]))["token"]
    async with httpx.AsyncClient() as http:
        first = await _write(http, base, token, "before the reveal")
        assert first.status_code == 201 and first.json()["revealed"] is False
        shown = await http.post(
            f"{base}/reveal", json={"section": "worked-well"},
            headers={"Authorization": f"Bearer {moderator}"},
        )  # fmt: skip
        assert shown.status_code == 200, shown.text
        after = await _write(http, base, token, "after the reveal")
        assert after.status_code == 201 and after.json()["revealed"] is True
    assert _stored_tally(server, review["id"])["revealed"] == ["worked-well"]

    server.stop()
    with sqlite3.connect(server.data_dir / "debrief.sqlite3") as db:  # as an older version kept it
        tally = _stored_tally(server, review["id"])
        del tally["revealed"]
        db.execute(
            "UPDATE records SET data = ? WHERE kind = 'note-tally' AND id = ?",
            (json.dumps(tally), review["id"]),
        )
    server.start()

    async with httpx.AsyncClient() as http:
        late = await _write(http, base, token, "after an upgrade")
        assert late.status_code == 201 and late.json()["revealed"] is True
        hidden = await http.post(
            f"{base}/notes", json={"kind": "contributing-factor", "text": "still hidden"},
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        assert hidden.status_code == 201 and hidden.json()["revealed"] is False
    assert _stored_tally(server, review["id"])["revealed"] == ["worked-well"]
