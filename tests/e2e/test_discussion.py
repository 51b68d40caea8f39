"""The discuss step: voted themes in order of votes, each with its own time box on the
shared timer; comments on the theme at hand carry no name and go out together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pycrdt import Map

from debrief.protocol import SyncStep2, SyncUpdate, parse_frame
from support.meeting import Review, open_review
from support.server import ServerProcess
from support.yclient import YClient


@pytest.fixture
async def review(server: ServerProcess) -> AsyncIterator[Review]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield await open_review(server, http, "Login outage")


def meeting(room: YClient) -> dict[str, Any]:
    return room.doc.get("meeting", type=Map).to_py() or {}


def comments(room: YClient) -> dict[str, Any]:
    return room.doc.get("comments", type=Map).to_py() or {}


async def test_themes_walked_by_votes_each_on_its_own_time_box(review: Review) -> None:
    mod, ana, sam = "moderator", "participant", "scribe"
    await review.ok(mod, "PATCH", "", {"settings": {"votes_per_person": 3}})
    await review.ok(mod, "POST", "/status", {"status": "live"})
    room = await review.client("observer", "room")
    for text in ("Token cache expired early", "No alert on login errors", "Runbook unclear"):
        await review.ok(ana, "POST", "/notes", {"text": text})
    await review.ok(mod, "POST", "/reveal", {"section": "contributing-factor"})
    titles = ("Caching", "Alerting", "Docs")
    theme = {
        t: (await review.ok(mod, "POST", "/themes", {"title": t, "category": "tooling"}))["id"]
        for t in titles
    }
    await review.ok(mod, "POST", "/voting/open", {"section": "contributing-factor"})
    ballots = ((ana, "Alerting"), (ana, "Alerting"), (sam, "Caching"), (sam, "Alerting"))
    for voter, target in ballots:
        await review.ok(voter, "POST", "/votes", {"target": theme[target]})
    await review.ok(mod, "POST", "/voting/close", {"section": "contributing-factor"})

    started = await review.ok(mod, "POST", "/discussion/start", {"minutes": 3})
    # most votes first; a theme nobody voted for is left out
    assert started["discussion"]["order"] == [theme["Alerting"], theme["Caching"]]
    await room.wait_for(lambda: meeting(room).get("discussion", {}).get("active") is True)
    timer = meeting(room)["timer"]
    assert timer["status"] == "running" and timer["duration_ms"] == 180_000

    # Two attendees comment on the theme at hand: no names, and one update for both.
    first = await review.ok(ana, "POST", f"/themes/{theme['Alerting']}/comments",
                            {"text": "Paging rules live in two tools"})  # fmt: skip
    assert first["yours"] is True and "owner" not in first
    await review.ok(sam, "POST", f"/themes/{theme['Alerting']}/comments", {"text": "Agreed"})
    await room.wait_for(lambda: len(comments(room)) == 2)
    for shown in comments(room).values():
        assert set(shown) == {"id", "theme_id", "text"}
    frames = [f for f in room.received_frames if isinstance(parse_frame(f), SyncStep2 | SyncUpdate)]
    assert any(b"Paging rules live in two tools" in f and b"Agreed" in f for f in frames)
    # only the author deletes a comment
    refused = await review.call(sam, "DELETE", f"/comments/{first['id']}")
    assert refused.status_code == 403

    after = await review.ok(mod, "POST", "/discussion/next")
    assert after["discussion"]["index"] == 1
    await room.wait_for(lambda: meeting(room)["discussion"]["index"] == 1)
    assert meeting(room)["timer"]["status"] == "running"  # a fresh box for this theme
    done = await review.ok(mod, "POST", "/discussion/next")
    assert done["discussion"]["active"] is False
    again = await review.call(mod, "POST", "/discussion/next")
    assert again.status_code == 409 and again.json()["error"] == "no-discussion"
    await room.close()


async def test_a_section_without_themes_has_nothing_to_discuss(review: Review) -> None:
    refused = await review.call("moderator", "POST", "/discussion/start", {})
    assert refused.status_code == 409 and refused.json()["error"] == "nothing-to-discuss"
