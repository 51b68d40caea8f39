"""Commands racing a close (issue 10, item 7): each one either finished before the close
(its effect is in the frozen version) or is refused with 409; afterwards the docs and
the frozen recap agree."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from pycrdt import Map

from support.meeting import Review, open_review
from support.server import ServerProcess


async def prepared(server: ServerProcess, http: httpx.AsyncClient) -> tuple[Review, list[str]]:
    review = await open_review(server, http, "Race review")
    settings = {"hide_counts_until_closed": False, "votes_per_person": 10}
    await review.ok("moderator", "PATCH", "", {"settings": settings})
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    notes = [
        (await review.ok("participant", "POST", "/notes", {"text": f"Note {i}"}))["id"]
        for i in range(8)
    ]
    await review.ok("moderator", "POST", "/reveal", {"section": "contributing-factor"})
    await review.ok("moderator", "POST", "/voting/open", {"section": "contributing-factor"})
    return review, notes


def loose_items(recap: dict[str, Any]) -> Counter[tuple[str, int]]:
    groups = [g for g in recap["contributing_factors"] if g["category"] == "ungrouped"]
    return Counter((t["title"], t["votes"]) for g in groups for t in g["themes"])


async def race_once(review: Review, notes: list[str]) -> None:
    edits = [("participant", "PATCH", f"/notes/{n}", {"text": f"Edited {n}"}) for n in notes]
    votes = [("scribe", "POST", "/votes", {"target": n}) for n in notes]
    commands = [c for pair in zip(edits, votes, strict=True) for c in pair]  # 16
    tasks = [asyncio.create_task(review.call(*c)) for c in commands]
    body = {"reason": "No action items in this race"}  # zero actions need a reason
    close = asyncio.create_task(review.call("moderator", "POST", "/close", body))
    closed = await close
    assert closed.status_code == 200, closed.text
    answers = await asyncio.gather(*tasks)
    for command, answer in zip(commands, answers, strict=True):
        assert answer.status_code in (200, 409), (command, answer.text)
        if answer.status_code == 409:
            assert answer.json()["error"] == "review-closed"

    frozen = closed.json()["recap"]
    assert (await review.ok("observer", "GET", "/recap")) == frozen
    voted = Counter(c[3]["target"] for c, a in zip(commands, answers, strict=True)
                    if c[2] == "/votes" and a.status_code == 200)  # fmt: skip
    edited = {c[2].rsplit("/", 1)[1] for c, a in zip(commands, answers, strict=True)
              if c[1] == "PATCH" and a.status_code == 200}  # fmt: skip
    expected = Counter(
        (f"Edited {n}" if n in edited else f"Note {notes.index(n)}", voted[n]) for n in notes
    )
    assert loose_items(frozen) == expected

    room = await review.client("observer", "room")
    try:
        doc_notes = room.doc.get("notes", type=Map).to_py() or {}
        doc_votes = room.doc.get("votes", type=Map).to_py() or {}
        in_docs = Counter(
            (note["text"], int(doc_votes.get(note_id, 0))) for note_id, note in doc_notes.items()
        )
        assert in_docs == expected  # nothing changed after the frozen version was taken
        assert room.doc.get("review", type=Map).get("status") == "closed"
    finally:
        await room.close()


@pytest.mark.parametrize("round_", range(3))
async def test_commands_racing_close(server: ServerProcess, round_: int) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        review, notes = await prepared(server, http)
        await race_once(review, notes)
    assert server.proc is not None and server.proc.poll() is None
