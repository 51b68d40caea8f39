"""Actions after close through the API of a real server: status, evidence, verification,
history, personal links across reviews, team lists and overdue, and who may do what."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from support.meeting import ROLES, Review
from support.server import ServerProcess

TODAY = datetime.now(UTC).date()
LATER = (TODAY + timedelta(days=30)).isoformat()
YESTERDAY = (TODAY - timedelta(days=1)).isoformat()
PROOF = "https://deploys.example.com/812"


class Team:
    def __init__(self, http: httpx.AsyncClient, team_id: str, admin: str, member: str) -> None:
        self.http, self.id = http, team_id
        self.admin = {"Authorization": f"Bearer {admin}"}
        self.member = {"Authorization": f"Bearer {member}"}

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        response = await self.http.get(
            f"/api/teams/{self.id}{path}", headers=headers or self.member
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def set_status(self, gid: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(
            f"/api/teams/{self.id}/actions/{gid}/status", json=body, headers=self.admin
        )


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url) as client:
        yield client


async def new_team(http: httpx.AsyncClient) -> Team:
    created = await http.post("/api/teams", json={"name": "Payments"})
    assert created.status_code == 201, created.text
    team = created.json()
    tokens = {}
    for role, name in (("admin", "Ada Admin"), ("member", "Mel Member")):
        joined = await http.post(
            "/api/teams/join", json={"link": team["links"][role], "name": name}
        )
        assert joined.status_code == 200, joined.text
        tokens[role] = joined.json()["token"]
    return Team(http, team["id"], tokens["admin"], tokens["member"])


async def live_review(server: ServerProcess, team: Team, title: str) -> Review:
    created = await team.http.post(
        f"/api/teams/{team.id}/reviews", json={"title": title}, headers=team.member
    )
    assert created.status_code == 201, created.text
    data = created.json()
    review = Review(server, data["id"], data["invites"], {}, team.http)
    for role in ROLES:
        review.people[role] = await review.join(role, f"{role.title()} Person")
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    return review


def action(what: str, **fields: str) -> dict[str, str]:
    return {
        "what": what,
        "due": LATER,
        "verify": "The next two deploys show it in the release log",
        "kind": "preventive-control",
        **fields,
    }


async def status(review: Review, who: str, gid: str, body: dict[str, Any]) -> httpx.Response:
    return await review.call(who, "POST", f"/follow-up/{gid}/status", body)


async def person_link(team: Team, name: str) -> str:
    people = (await team.get("/people", team.admin))["people"]
    found = next(p for p in people if p["name"] == name)
    return str(found["link"]).rsplit("/", 1)[-1]


async def test_actions_live_on_after_close(server: ServerProcess, http: httpx.AsyncClient) -> None:
    team = await new_team(http)
    added = await http.post(
        f"/api/teams/{team.id}/people", json={"name": "Priya N"}, headers=team.member
    )
    assert added.status_code == 201, added.text
    priya = added.json()["id"]

    first = await live_review(server, team, "Checkout outage")
    typed = await first.ok(
        "scribe", "POST", "/actions", action("Add a second approver to deploys", owner="priya  n")
    )
    picked = await first.ok(
        "scribe", "POST", "/actions", action("Page the database owner on disk alerts",
                                             owner_id=priya)
    )  # fmt: skip
    assert picked["owner"] == "Priya N" and picked["owner_id"] == priya
    other = await first.ok(
        "scribe", "POST", "/actions", action("Write the disk runbook", owner="Omar K")
    )
    stranger = await first.call("scribe", "POST", "/actions", action("X", owner_id="pe_nobody"))
    assert stranger.status_code == 422 and stranger.json()["error"] == "unknown-person"
    assert (await first.ok("moderator", "GET", "/follow-up"))["actions"] == []  # still open
    closed = await first.call("moderator", "POST", "/close", {})
    assert closed.status_code == 200, closed.text

    follow = (await first.ok("observer", "GET", "/follow-up"))["actions"]
    assert [a["action_id"] for a in follow] == [typed["id"], picked["id"], other["id"]]
    assert {a["status"] for a in follow} == {"open"}
    assert "history" not in follow[0] and follow[0]["review_url"] == f"/r/{first.id}/recap"
    by_id = {a["action_id"]: a for a in follow}
    assert by_id[typed["id"]]["owner_id"] == priya  # the typed name is the same person
    assert by_id[picked["id"]]["owner_id"] == priya
    omar = by_id[other["id"]]["owner_id"]
    assert omar.startswith("pe_") and omar != priya  # added to the directory at close
    gid = by_id[typed["id"]]["gid"]
    assert gid == f"{first.id}.{typed['id']}"

    # A second review: Priya owns an action that was due yesterday.
    second = await live_review(server, team, "Search latency")
    late = await second.ok(
        "moderator", "POST", "/actions", action("Add a query timeout", owner="Priya N",
                                                due=YESTERDAY)
    )  # fmt: skip
    closed = await second.call("moderator", "POST", "/close", {"reason": "Dates agreed earlier"})
    assert closed.status_code == 200, closed.text
    late_gid = f"{second.id}.{late['id']}"

    # Priya's personal link lists her actions of both reviews.
    code = await person_link(team, "Priya N")
    page = (await http.get(f"/api/p/{code}")).json()
    assert page["person"] == {"id": priya, "name": "Priya N"}
    assert page["team"]["id"] == team.id
    assert {a["gid"] for a in page["actions"]} == {gid, by_id[picked["id"]]["gid"], late_gid}
    assert page["overdue"] == 1 and page["actions"][0]["gid"] == late_gid  # earliest due first
    assert (await http.get("/api/p/not-a-code")).status_code == 404

    # Done needs evidence; then done with a link.
    bare = await http.post(f"/api/p/{code}/actions/{gid}/status", json={"status": "done"})
    assert bare.status_code == 400 and bare.json()["error"] == "evidence-required"
    done = await http.post(
        f"/api/p/{code}/actions/{gid}/status",
        json={"status": "done", "evidence": {"url": PROOF}, "note": "Shipped"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["evidence"]["url"] == PROOF
    # The owner cannot verify it, nor touch Omar's action.
    own = await http.post(f"/api/p/{code}/actions/{gid}/status", json={"status": "verified"})
    assert own.status_code == 403 and own.json()["error"] == "owner-cannot-verify"
    omar_gid = by_id[other["id"]]["gid"]
    theirs = await http.post(
        f"/api/p/{code}/actions/{omar_gid}/status", json={"status": "in-progress"}
    )
    assert theirs.status_code == 403 and theirs.json()["error"] == "not-your-action"
    nope = await http.post(
        f"/api/p/{code}/actions/{gid}/status", json={"status": "done", "surprise": 1}
    )
    assert nope.status_code == 422

    # The review's observer and participant may not change a status; nor another review's
    # moderator; the moderator of this review verifies.
    for who in ("observer", "participant"):
        refused = await status(first, who, gid, {"status": "verified"})
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    elsewhere = await status(second, "moderator", gid, {"status": "verified"})
    assert elsewhere.status_code == 403 and elsewhere.json()["error"] == "not-this-review"
    not_done = await status(first, "moderator", omar_gid, {"status": "verified"})
    assert not_done.status_code == 409 and not_done.json()["error"] == "not-done"
    verified = await status(first, "moderator", gid, {"status": "verified", "note": "Seen it"})
    assert verified.status_code == 200, verified.text
    assert verified.json()["verified_by"] == "Moderator Person"

    # History, read through the personal link.
    history = (await http.get(f"/api/p/{code}/actions/{gid}")).json()["history"]
    assert [(h["from"], h["to"], h["by"], h["role"]) for h in history] == [
        ("open", "done", "Priya N", "owner"),
        ("done", "verified", "Moderator Person", "moderator"),
    ]
    assert history[0]["evidence"] == {"url": PROOF, "text": ""} and history[1]["note"] == "Seen it"
    assert (await http.get(f"/api/p/{code}/actions/{omar_gid}")).status_code == 403

    # The team admin verifies what Priya marks done; a member may not; won't do needs a reason.
    picked_gid = by_id[picked["id"]]["gid"]
    text_done = await http.post(
        f"/api/p/{code}/actions/{picked_gid}/status",
        json={"status": "done", "evidence": {"text": "Alert rule 14 pages the DB owner"}},
    )
    assert text_done.status_code == 200, text_done.text
    member_try = await http.post(
        f"/api/teams/{team.id}/actions/{picked_gid}/status",
        json={"status": "verified"},
        headers=team.member,
    )
    assert member_try.status_code == 403
    admin_ok = await team.set_status(picked_gid, {"status": "verified"})
    assert admin_ok.status_code == 200, admin_ok.text
    assert admin_ok.json()["history"][-1]["role"] == "team-admin"
    assert admin_ok.json()["verified_by"] == "Ada Admin"
    no_reason = await team.set_status(omar_gid, {"status": "wont-do"})
    assert no_reason.status_code == 400 and no_reason.json()["error"] == "reason-required"
    again = await team.set_status(picked_gid, {"status": "verified"})
    assert again.status_code == 409 and again.json()["error"] == "no-change"

    # Team lists: pending, overdue, by status, per person, paged.
    pending = await team.get("/actions")
    assert pending["total"] == 2  # Omar's open one and Priya's late one
    assert [a["gid"] for a in pending["actions"]] == [late_gid, omar_gid]
    assert pending["actions"][0]["overdue"] is True
    assert pending["actions"][0]["review_url"] == f"/r/{second.id}/recap"
    overdue = await team.get("/actions?view=overdue")
    assert [a["gid"] for a in overdue["actions"]] == [late_gid] and overdue["total"] == 1
    verified_list = await team.get("/actions?view=verified")
    assert {a["gid"] for a in verified_list["actions"]} == {gid, picked_gid}
    everything = await team.get("/actions?view=all&limit=2&offset=2")
    assert everything["total"] == 4 and len(everything["actions"]) == 2
    mine = await team.get(f"/actions?view=all&person={priya}")
    assert {a["gid"] for a in mine["actions"]} == {gid, picked_gid, late_gid}
    bad = await http.get(f"/api/teams/{team.id}/actions?view=soon", headers=team.member)
    assert bad.status_code == 422 and bad.json()["error"] == "bad-view"

    # A retried close changes nothing of what happened since.
    retried = await first.call("moderator", "POST", "/close", {})
    assert retried.status_code == 409 and retried.json()["error"] == "review-closed"
    after = {a["gid"]: a["status"] for a in (await first.ok("moderator", "GET", "/follow-up"))[
        "actions"]}  # fmt: skip
    assert after == {gid: "verified", picked_gid: "verified", omar_gid: "open"}


async def test_zero_actions_need_a_reason_to_close(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    team = await new_team(http)
    review = await live_review(server, team, "Quiet launch")
    refused = await review.call("moderator", "POST", "/close", {"reason": "   "})
    assert refused.status_code == 409
    assert refused.json()["error"] == "no-actions-reason-required"
    assert "no action items" in refused.json()["detail"]
    closed = await review.call("moderator", "POST", "/close", {"reason": "Nothing to change"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["recap"]["close_reason"] == "Nothing to change"
    assert (await review.ok("observer", "GET", "/follow-up"))["actions"] == []
