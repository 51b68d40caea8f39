"""Votes through two `debrief serve --redis` processes at once: the limit holds, each
answer gives the voter's votes right after that vote, and the review's lock, which a
vote now lets go with its own write, is free for the next command on either process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pycrdt import Map

from support.meeting import open_review
from support.scaleout import Cluster

SECTION = "contributing-factor"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path, 2).start()
    try:
        yield running
    finally:
        running.stop()


async def test_votes_over_two_processes(cluster: Cluster) -> None:
    first, second = cluster.servers
    async with httpx.AsyncClient(base_url=first.url, timeout=60) as http:
        review = await open_review(first, http, "Votes on two processes")
        await review.ok("moderator", "PATCH", "", {"settings": {"votes_per_person": 3}})
        await review.ok("moderator", "POST", "/status", {"status": "live"})
        for text in ("Alert was muted", "Runbook was stale"):
            await review.ok("scribe", "POST", "/notes", {"text": text})
        await review.ok("moderator", "POST", "/reveal", {"section": SECTION})
        room = await review.client("observer", "room")
        await room.wait_for(lambda: len(room.doc.get("notes", type=Map)) == 2)
        targets = list(room.doc.get("notes", type=Map).keys())
        await review.ok("moderator", "POST", "/voting/open", {"section": SECTION})

        voter = review.people["participant"].headers
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=0)
        async with (
            httpx.AsyncClient(base_url=first.url, limits=limits, timeout=60) as one,
            httpx.AsyncClient(base_url=second.url, limits=limits, timeout=60) as two,
        ):
            answers = await asyncio.gather(
                *(
                    (one, two)[i % 2].post(
                        f"{review.base}/votes", json={"target": targets[i % 2]}, headers=voter
                    )
                    for i in range(40)
                )
            )
        accepted = [r.json() for r in answers if r.status_code == 200]
        refused = [r.json() for r in answers if r.status_code != 200]
        assert len(accepted) == 3 and len(refused) == 37
        assert {r["error"] for r in refused} == {"vote-limit"}
        # Each accepted answer holds the votes right after its own: the 1st, 2nd and 3rd.
        assert sorted(a["used"] for a in accepted) == [1, 2, 3]
        assert all(sum(a["votes"].values()) == a["used"] for a in accepted)

        # The lock is free: retractions on the other process, then a close on the first.
        last = max(accepted, key=lambda a: a["used"])
        some, stacked = next(iter(last["votes"].items()))
        async with httpx.AsyncClient(base_url=second.url, timeout=60) as other:
            for left in range(stacked - 1, -1, -1):
                taken = await other.post(
                    f"{review.base}/votes/retract", json={"target": some}, headers=voter
                )
                assert taken.status_code == 200 and taken.json()["votes"].get(some, 0) == left
            none_left = await other.post(
                f"{review.base}/votes/retract", json={"target": some}, headers=voter
            )
            assert none_left.status_code == 404 and none_left.json()["error"] == "no-vote"
        remaining = 3 - stacked
        await review.ok("moderator", "POST", "/voting/close", {"section": SECTION})
        await room.wait_for(
            lambda: sum((room.doc.get("votes", type=Map).to_py() or {}).values()) == remaining
        )
        await room.close()
