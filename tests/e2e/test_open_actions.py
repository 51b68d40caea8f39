"""The open-actions phase on a real server: a team review created with carry_over walks
the pending actions of the team's earlier reviews, overdue first; an owner's update from
their personal link reaches every client of the live review through its room doc; the
moderator verifies and notes what was said; the recap keeps it all at close.

Run on SQLite (one process) and on Redis with two processes, where the clients of the
walking review are connected to the process that does not handle the status changes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pycrdt import Map

from support.meeting import ROLES, Review
from support.scaleout import Cluster
from support.server import ServerProcess
from support.yclient import YClient

TODAY = datetime.now(UTC).date()
LATER = (TODAY + timedelta(days=30)).isoformat()
LAST_WEEK = (TODAY - timedelta(days=7)).isoformat()
TWO_WEEKS_AGO = (TODAY - timedelta(days=14)).isoformat()
PROOF = "https://deploys.example.com/812"


@pytest.fixture(params=["sqlite", "redis"])
def nodes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """[the process the API calls go to, the one the walking review's clients use]."""
    if request.param == "sqlite":
        server = ServerProcess(tmp_path / "data").start()
        try:
            yield [server, server]
        finally:
            server.stop()
        return
    cluster = Cluster(tmp_path, 2).start()
    try:
        yield [cluster[0], cluster[1]]
    finally:
        cluster.stop()


@pytest.fixture
async def http(nodes: list[ServerProcess]) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=nodes[0].url) as client:
        yield client


class Team:
    def __init__(self, http: httpx.AsyncClient, team_id: str, tokens: dict[str, str]) -> None:
        self.http, self.id = http, team_id
        self.admin = {"Authorization": f"Bearer {tokens['admin']}"}
        self.member = {"Authorization": f"Bearer {tokens['member']}"}

    async def create_review(self, title: str, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"/api/teams/{self.id}/reviews", json={"title": title, **body}, headers=self.member
        )

    async def person_link(self, name: str) -> str:
        found = await self.http.get(f"/api/teams/{self.id}/people", headers=self.admin)
        assert found.status_code == 200, found.text
        person = next(p for p in found.json()["people"] if p["name"] == name)
        return str(person["link"]).rsplit("/", 1)[-1]


async def new_team(http: httpx.AsyncClient) -> Team:
    created = await http.post("/api/teams", json={"name": "Payments"})
    assert created.status_code == 201, created.text
    team = created.json()
    tokens = {}
    for role, name in (("admin", "Ada Admin"), ("member", "Mel Member")):
        body = {"link": team["links"][role], "name": name}
        joined = await http.post("/api/teams/join", json=body)
        assert joined.status_code == 200, joined.text
        tokens[role] = joined.json()["token"]
    return Team(http, team["id"], tokens)


async def team_review(server: ServerProcess, team: Team, title: str, **body: Any) -> Review:
    created = await team.create_review(title, **body)
    assert created.status_code == 201, created.text
    data = created.json()
    review = Review(server, data["id"], data["invites"], {}, team.http)
    for role in ROLES:
        review.people[role] = await review.join(role, f"{role.title()} Person")
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    return review


def action(what: str, owner: str, due: str) -> dict[str, str]:
    return {"what": what, "owner": owner, "due": due, "kind": "preventive-control",
            "verify": "The next two deploys show it in the release log"}  # fmt: skip


def carried(room: YClient) -> dict[str, Any]:
    found = (room.doc.get("meeting", type=Map).to_py() or {}).get("carried")
    return found if isinstance(found, dict) else {}


def status_in_room(room: YClient, gid: str) -> str:
    return str((carried(room).get(gid) or {}).get("status", ""))


def md_sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", markdown, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts), 2)}


async def test_open_actions_walked_live_and_kept_in_the_recap(
    nodes: list[ServerProcess], http: httpx.AsyncClient
) -> None:
    server, other_node = nodes
    team = await new_team(http)

    # Review 1 closes with four actions: one overdue, one done (due even earlier, but
    # done is not overdue), one due later, and one that will not be done.
    first = await team_review(server, team, "Checkout outage")
    late = await first.ok(
        "scribe", "POST", "/actions", action("Add a timeout to payment calls", "Priya N", LAST_WEEK)
    )
    soon = await first.ok(
        "scribe", "POST", "/actions", action("Write the disk runbook", "Omar K", LATER)
    )
    dropped = await first.ok("scribe", "POST", "/actions",
                             action("Move the cron host", "Lee S", LATER))  # fmt: skip
    keys = await first.ok("scribe", "POST", "/actions",
                          action("Rotate the API keys", "Omar K", TWO_WEEKS_AGO))  # fmt: skip
    closed = await first.call("moderator", "POST", "/close", {"reason": "Dates agreed earlier"})
    assert closed.status_code == 200, closed.text
    late_gid, soon_gid, dropped_gid, keys_gid = (
        f"{first.id}.{a['id']}" for a in (late, soon, dropped, keys)
    )
    for gid, change in (
        (dropped_gid, {"status": "wont-do", "reason": "The host is retired"}),
        (keys_gid, {"status": "done", "evidence": {"text": "Vault shows the new keys"}}),
    ):
        moved = await http.post(f"/api/teams/{team.id}/actions/{gid}/status", json=change,
                                headers=team.admin)  # fmt: skip
        assert moved.status_code == 200, moved.text

    # A carry-over names reviews of this team only, and at least one.
    assert (await team.create_review("X", carry_over={"mode": "reviews"})).status_code == 422
    elsewhere = await team.create_review("X", carry_over={"mode": "reviews",
                                                          "review_ids": ["r_nope"]})  # fmt: skip
    assert elsewhere.status_code == 404
    assert (await team.create_review("X", carry_over={"mode": "all"})).status_code == 422

    # Review 2 carries over the team's open actions: its agenda starts with walking them.
    second = await team_review(other_node, team, "Search latency", carry_over={"mode": "team"})
    agenda = (await second.ok("observer", "GET", "/agenda"))["agenda"]
    assert agenda[0]["id"] == "open-actions" and agenda[1]["id"] == "opening"
    # switching the template keeps the phase
    await second.ok("moderator", "PUT", "/agenda", {"template": "launch"})
    agenda = (await second.ok("observer", "GET", "/agenda"))["agenda"]
    assert [p["id"] for p in agenda[:2]] == ["open-actions", "opening"]
    plain = await team_review(server, team, "Login errors")
    assert (await plain.ok("observer", "GET", "/agenda"))["agenda"][0]["id"] == "opening"
    assert await plain.ok("observer", "GET", "/carried") == {"carry_over": None, "actions": []}

    await second.ok("moderator", "POST", "/phase", {"phase_id": "open-actions"})
    room = await second.client("observer", "room")
    recap_doc = await second.client("observer", "recap")

    # The list: pending actions only, the overdue one first; the room doc shows each status.
    listed = (await second.ok("observer", "GET", "/carried"))["actions"]
    assert [a["gid"] for a in listed] == [late_gid, keys_gid, soon_gid]
    first_row = listed[0]
    assert first_row["overdue"] is True and first_row["owner"] == "Priya N"
    assert first_row["review_title"] == "Checkout outage" and first_row["status"] == "open"
    assert listed[1]["overdue"] is False and listed[1]["status"] == "done"
    assert listed[2]["overdue"] is False
    await room.wait_for(lambda: status_in_room(room, late_gid) == "open"
                        and status_in_room(room, soon_gid) == "open")  # fmt: skip

    # The owner updates from their personal link; every client of review 2 sees it.
    code = await team.person_link("Priya N")
    moved = await http.post(f"/api/p/{code}/actions/{late_gid}/status",
                            json={"status": "in-progress", "note": "Halfway"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    await room.wait_for(lambda: status_in_room(room, late_gid) == "in-progress")
    done = await http.post(f"/api/p/{code}/actions/{late_gid}/status",
                           json={"status": "done", "evidence": {"url": PROOF}})  # fmt: skip
    assert done.status_code == 200, done.text
    await room.wait_for(lambda: status_in_room(room, late_gid) == "done")

    # This review's moderator may verify an action it carries; its participant may not,
    # nor the moderator of a review that does not carry it.
    refused = await second.call("participant", "POST", f"/follow-up/{late_gid}/status",
                                {"status": "verified"})  # fmt: skip
    assert refused.status_code == 403
    other = await plain.call("moderator", "POST", f"/follow-up/{late_gid}/status",
                             {"status": "verified"})  # fmt: skip
    assert other.status_code == 403 and other.json()["error"] == "not-this-review"
    verified = await second.call("moderator", "POST", f"/follow-up/{late_gid}/status",
                                 {"status": "verified"})  # fmt: skip
    assert verified.status_code == 200, verified.text
    await room.wait_for(lambda: status_in_room(room, late_gid) == "verified")

    # What was said goes into the recap doc, for everyone to see.
    said = "Timeout shipped in 812; alerts quiet since"
    noted = await second.ok("moderator", "POST", f"/carried/{late_gid}/note", {"text": said})
    assert noted["note"] == said
    await recap_doc.wait_for(
        lambda: (
            (recap_doc.doc.get("carried", type=Map).to_py() or {}).get(late_gid, {}).get("note")
            == said
        )
    )
    nobody = await second.call("participant", "POST", f"/carried/{late_gid}/note", {"text": "x"})
    assert nobody.status_code == 403
    unknown = await second.call("scribe", "POST", f"/carried/{dropped_gid}/note", {"text": "x"})
    assert unknown.status_code == 404 and unknown.json()["error"] == "not-carried"
    again = {a["gid"]: a for a in (await second.ok("observer", "GET", "/carried"))["actions"]}
    assert again[late_gid]["status"] == "verified" and again[late_gid]["note"] == said
    assert again[late_gid]["status_carried"] == "open"
    assert again[late_gid]["evidence"]["url"] == PROOF

    # Close: the recap lists the walked actions with their status at close and the note.
    shut = await second.call("moderator", "POST", "/close",
                             {"reason": "This meeting only walked earlier actions"})  # fmt: skip
    assert shut.status_code == 200, shut.text
    rows = shut.json()["recap"]["carried_actions"]
    assert [(r["what"], r["status"], r["note"]) for r in rows] == [
        ("Add a timeout to payment calls", "verified", said),
        ("Rotate the API keys", "done", ""),
        ("Write the disk runbook", "open", ""),
    ]
    export = await second.call("observer", "GET", "/export?format=markdown", expect=200)
    sections = md_sections(export.text)
    names = list(sections)
    assert names.index("Open actions reviewed") == names.index("Action items") - 1
    walked = sections["Open actions reviewed"]
    assert "Add a timeout to payment calls" in walked and "Status at close: Verified" in walked
    assert f"What was said: {said}" in walked and "From: Checkout outage" in walked
    assert "Write the disk runbook" in walked and "Status at close: Open" in walked
    html = await second.call("observer", "GET", "/export?format=html", expect=200)
    assert '<section id="carried_actions"><h2>Open actions reviewed</h2>' in html.text

    # Once closed, the review no longer follows the actions it carried.
    late_change = await second.call("moderator", "POST", f"/follow-up/{soon_gid}/status",
                                    {"status": "in-progress"})  # fmt: skip
    assert late_change.status_code == 403
    admin = await http.post(f"/api/teams/{team.id}/actions/{soon_gid}/status",
                            json={"status": "in-progress"}, headers=team.admin)  # fmt: skip
    assert admin.status_code == 200, admin.text
    frozen = await second.ok("observer", "GET", "/recap")
    assert [r["status"] for r in frozen["carried_actions"]] == ["verified", "done", "open"]
    assert status_in_room(room, soon_gid) == "open"
    for client in (room, recap_doc):
        await client.close()
