"""A sign-off is for a wording: a change to the recap after people signed shows who signed
which wording, counts only those on the current one, and asks the others again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pycrdt import Map, Text

from support.meeting import Review, open_review
from support.server import ServerProcess
from support.yclient import YClient


@pytest.fixture
async def review(server: ServerProcess) -> AsyncIterator[Review]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield await open_review(server, http, "Search outage during the sale")


def meeting(room: YClient) -> dict[str, Any]:
    return room.doc.get("meeting", type=Map).to_py() or {}


async def test_an_edit_after_sign_off_asks_again(review: Review) -> None:
    mod, scribe, ana = "moderator", "scribe", "participant"
    await review.ok(mod, "POST", "/status", {"status": "live"})
    room = await review.client("observer", "room")
    recap = await review.client(scribe, "recap")
    recap.doc.get("text", type=Text).insert(0, "The search index ran out of disk.")
    await review.ok(
        scribe, "POST", "/actions",
        {"what": "Alert on index disk use above 80%", "owner": "Kim", "due": "2999-01-01",
         "verify": "A test alert pages the on-call", "kind": "monitoring"},
    )  # fmt: skip

    await review.ok(ana, "POST", "/signoff")
    await review.ok(scribe, "POST", "/signoff")
    await room.wait_for(lambda: meeting(room).get("signoffs") == 2)
    assert {s["name"] for s in meeting(room)["signers"]} == {"Participant Person", "Scribe Person"}
    assert all(s["current"] for s in meeting(room)["signers"])
    assert await review.ok(ana, "GET", "/signoff") == {"signed": True, "current": True}

    # The scribe changes the wording: both sign-offs now stand for an earlier wording.
    recap.doc.get("text", type=Text).insert(0, "Update: ")
    await room.wait_for(lambda: meeting(room).get("signoffs") == 0)
    assert [s["current"] for s in meeting(room)["signers"]] == [False, False]
    assert await review.ok(ana, "GET", "/signoff") == {"signed": True, "current": False}

    # Ana signs the new wording; the scribe's stays on the earlier one.
    assert (await review.ok(ana, "POST", "/signoff"))["signoffs"] == 1
    await room.wait_for(lambda: meeting(room).get("signoffs") == 1)
    assert meeting(room)["signers"] == [
        {"name": "Participant Person", "current": True},
        {"name": "Scribe Person", "current": False},
    ]
    # An action edited through the API is part of the wording too.
    actions = (await review.ok(scribe, "GET", "/actions"))["actions"]
    await review.ok(scribe, "PATCH", f"/actions/{actions[0]['id']}", {"owner": "Lee"})
    await room.wait_for(lambda: meeting(room).get("signoffs") == 0)

    # The frozen recap counts the sign-offs on the wording it froze.
    await review.ok(ana, "POST", "/signoff")
    await review.ok(mod, "POST", "/close", {})
    assert (await review.ok("observer", "GET", "/recap"))["signoffs"] == 1
    for client in (room, recap):
        await client.close()
