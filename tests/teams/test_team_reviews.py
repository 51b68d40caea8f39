"""A team's archive through the API of a real server: listing, search and filters from
the reviews index, creating reviews in a team, and deleting one for good."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from support.meeting import Review
from support.server import ServerProcess
from support.teams import Team, new_team, team_review
from support.yclient import YClient

TODAY = datetime.now(UTC).date()
LATER = (TODAY + timedelta(days=30)).isoformat()


def database(server: ServerProcess) -> sqlite3.Connection:
    """The server's own SQLite file, read-only: what is really stored."""
    path = server.data_dir / "debrief.sqlite3"
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def stored_rows(server: ServerProcess, review_id: str) -> dict[str, int]:
    with database(server) as db:
        prefix = (f"{review_id}/", f"{review_id}0")
        return {
            "records": db.execute(
                "SELECT COUNT(*) FROM records WHERE review_id = ? OR id = ?",
                (review_id, review_id),
            ).fetchone()[0],
            "updates": db.execute(
                "SELECT COUNT(*) FROM doc_updates WHERE doc >= ? AND doc < ?", prefix
            ).fetchone()[0],
            "snapshots": db.execute(
                "SELECT COUNT(*) FROM doc_snapshots WHERE doc >= ? AND doc < ?", prefix
            ).fetchone()[0],
            "index": db.execute(
                "SELECT COUNT(*) FROM index_entries WHERE member = ? OR member LIKE ?",
                (review_id, f"{review_id}.%"),
            ).fetchone()[0],
        }


async def listed(team: Team, **query: Any) -> dict[str, Any]:
    found: dict[str, Any] = await team.ok("member", "GET", "/reviews", params=query)
    return found


def titles(page: dict[str, Any]) -> list[str]:
    return [r["title"] for r in page["reviews"]]


def action(what: str, owner: str) -> dict[str, str]:
    return {"what": what, "owner": owner, "due": LATER, "kind": "preventive-control",
            "verify": "The next two deploys show it in the release log"}  # fmt: skip


async def closed_review(server: ServerProcess, team: Team, title: str) -> Review:
    review = await team_review(server, team, title)
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    await review.ok("scribe", "POST", "/actions", action("Add a deploy approver", "Priya"))
    await review.ok("scribe", "POST", "/actions", action("Alert on disk usage", "Omar"))
    await review.ok("moderator", "POST", "/close", {})
    return review


async def test_reviews_list_search_filters_and_pages(
    shared_server: ServerProcess, team: Team
) -> None:
    made = []
    for n in range(7):
        made.append(await team.ok("member", "POST", "/reviews", {"title": f"Outage {n}"}))
    page = await listed(team)
    assert page["total"] == 7
    assert titles(page) == [f"Outage {n}" for n in range(6, -1, -1)]  # newest first
    assert set(page["reviews"][0]) >= {"id", "title", "status", "kind", "created_ms", "actions"}
    assert "search" not in page["reviews"][0]
    assert page["reviews"][0]["status"] == "draft" and page["reviews"][0]["kind"] == "incident"

    # pages
    first, second = await listed(team, limit=3), await listed(team, limit=3, offset=3)
    assert titles(first) == ["Outage 6", "Outage 5", "Outage 4"]
    assert titles(second) == ["Outage 3", "Outage 2", "Outage 1"]
    assert first["total"] == second["total"] == 7
    assert titles(await listed(team, offset=6)) == ["Outage 0"]

    # search: the title, the event and the question, any case, every word
    review = Review(shared_server, made[2]["id"], made[2]["invites"], {}, team.http)
    review.people["moderator"] = await review.join("moderator", "Mo")
    scope = {"event": "Payment GATEWAY timeouts", "question": "Why no failover?"}
    await review.ok("moderator", "PATCH", "", {"scope": scope})
    assert titles(await listed(team, q="gateway")) == ["Outage 2"]
    assert titles(await listed(team, q="failover payment")) == ["Outage 2"]
    assert titles(await listed(team, q="outage 5")) == ["Outage 5"]
    assert (await listed(team, q="nothing like this"))["total"] == 0

    # status: follows every save of the review
    await review.ok("moderator", "POST", "/status", {"status": "scheduled"})
    assert titles(await listed(team, status="scheduled")) == ["Outage 2"]
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    assert (await listed(team, status="scheduled"))["total"] == 0
    assert titles(await listed(team, status="live")) == ["Outage 2"]
    assert (await listed(team, status="draft"))["total"] == 6
    counts = (await team.ok("member", "GET", ""))["counts"]["reviews"]
    assert counts == {"draft": 6, "scheduled": 0, "live": 1, "closed": 0}

    # kind: the agenda template
    await review.ok("moderator", "PUT", "/agenda", {"template": "launch"})
    assert titles(await listed(team, kind="launch")) == ["Outage 2"]
    assert (await listed(team, kind="incident"))["total"] == 6
    assert titles(await listed(team, kind="launch", status="live", q="gateway")) == ["Outage 2"]

    # period: created on or between days (UTC), by the server's clock (a run across
    # midnight made them on the day after the module's TODAY)
    days = sorted({datetime.fromtimestamp(r["created_ms"] / 1000, UTC).date()
                   for r in page["reviews"]})  # fmt: skip
    today, last = days[0].isoformat(), days[-1].isoformat()  # one day, or two at midnight
    tomorrow = (days[-1] + timedelta(days=1)).isoformat()
    yesterday = (days[0] - timedelta(days=1)).isoformat()
    assert (await listed(team, since=today, until=last))["total"] == 7
    assert (await listed(team, since=tomorrow))["total"] == 0
    assert (await listed(team, until=yesterday))["total"] == 0
    assert (await listed(team, since=yesterday, q="outage 1"))["total"] == 1

    bad_queries: list[dict[str, str]] = [
        {"status": "gone"}, {"since": "yesterday"}, {"limit": "0"}, {"limit": "x"},
        {"offset": "-1"}, {"since": tomorrow, "until": today}, {"q": "x" * 201},
    ]  # fmt: skip
    for bad in bad_queries:
        response = await team.call("member", "GET", "/reviews", params=bad)
        assert response.status_code == 422, (bad, response.text)

    # another team's list is its own
    other = await new_team(team.http, "Elsewhere")
    assert (await other.ok("member", "GET", "/reviews"))["total"] == 0


async def test_team_review_creation_and_carry_over(
    shared_server: ServerProcess, http: httpx.AsyncClient, team: Team
) -> None:
    first = await team.call("member", "POST", "/reviews", {"title": "  Disk full  "})
    assert first.status_code == 201, first.text
    made = first.json()
    assert made["title"] == "Disk full" and made["id"].startswith("r_")
    assert all(url.startswith(shared_server.url + "/j/") for url in made["invites"].values())

    carried = await team.call("member", "POST", "/reviews",
                              {"title": "Follow-up", "carry_over": {"mode": "team"}})  # fmt: skip
    assert carried.status_code == 201, carried.text
    chosen = {"mode": "reviews", "review_ids": [made["id"]]}
    picked = await team.call("member", "POST", "/reviews",
                             {"title": "Picked", "carry_over": chosen})  # fmt: skip
    assert picked.status_code == 201, picked.text
    # stored in the review record: the review's moderator reads it back
    review = Review(shared_server, picked.json()["id"], picked.json()["invites"], {}, http)
    review.people["moderator"] = await review.join("moderator", "Mo")
    seen = await review.ok("moderator", "GET", "/carried")
    assert seen["carry_over"] == chosen

    elsewhere = await new_team(http, "Elsewhere")
    foreign = await elsewhere.ok("member", "POST", "/reviews", {"title": "Not yours"})
    refusals = [
        ({"mode": "reviews", "review_ids": [foreign["id"]]}, 404),
        ({"mode": "reviews", "review_ids": ["r_nope"]}, 404),
        ({"mode": "reviews", "review_ids": []}, 422),
        ({"mode": "everything"}, 422),
        ({"mode": "reviews", "review_ids": ["r_x"] * 51}, 422),
        ({"mode": "team", "extra": 1}, 422),
    ]
    for carry, code in refusals:
        response = await team.call(
            "member", "POST", "/reviews", {"title": "X", "carry_over": carry}
        )
        assert response.status_code == code, (carry, response.text)
    assert (await team.call("member", "POST", "/reviews", {"title": ""})).status_code == 422
    assert (await listed(team))["total"] == 3


async def test_delete_review_for_good(
    shared_server: ServerProcess, http: httpx.AsyncClient, team: Team
) -> None:
    keep = await closed_review(shared_server, team, "Keep me")
    doomed = await closed_review(shared_server, team, "Checkout outage")
    before = (await team.ok("member", "GET", ""))["counts"]
    assert before["reviews"]["closed"] == 2 and before["actions"]["open"] == 4
    stored = stored_rows(shared_server, doomed.id)
    assert stored["records"] > 0 and stored["index"] > 0
    assert stored["updates"] + stored["snapshots"] > 0

    watcher = await doomed.client("observer", "room")
    url = f"/reviews/{doomed.id}"
    wrong = await team.call("admin", "DELETE", url, {"confirm": "checkout outage"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "confirm-mismatch"
    assert (
        await team.call("member", "DELETE", url, {"confirm": "Checkout outage"})
    ).status_code == 403
    other = await new_team(http, "Elsewhere")
    crossed = await other.call("admin", "DELETE", url, {"confirm": "Checkout outage"})
    assert crossed.status_code == 404

    deleted = await team.ok("admin", "DELETE", url, {"confirm": "Checkout outage"})
    assert deleted["deleted"] == doomed.id and deleted["actions"] == 2
    async with asyncio.timeout(10):
        await watcher.closed.wait()
    assert watcher.close_code == 4404

    # gone from everywhere: the list, the counts, the action lists, the storage
    assert titles(await listed(team)) == ["Keep me"]
    after = (await team.ok("member", "GET", ""))["counts"]
    assert after["reviews"]["closed"] == 1 and after["actions"]["open"] == 2
    actions = await team.ok("member", "GET", "/actions", params={"view": "all"})
    assert {a["review_id"] for a in actions["actions"]} == {keep.id}
    assert stored_rows(shared_server, doomed.id) == {
        "records": 0, "updates": 0, "snapshots": 0, "index": 0,
    }  # fmt: skip
    # its sessions went with it: no command, no socket
    for role in ("moderator", "observer"):
        gone = await doomed.call(role, "GET", "")
        assert gone.status_code in (401, 404), gone.text
    refused = YClient(shared_server.ws_url, doomed.id, "room", doomed.people["moderator"].token)
    await refused.connect()
    async with asyncio.timeout(10):
        await refused.closed.wait()
    assert refused.close_code in (4401, 4404)
    # a new session cannot get in either: its invites are gone
    join = await http.post("/api/join", json={"invite": doomed.invites["participant"]})
    assert join.status_code == 403
    again = await team.call("admin", "DELETE", url, {"confirm": "Checkout outage"})
    assert again.status_code == 404
    # the other review is untouched
    assert (await keep.ok("observer", "GET", ""))["status"] == "closed"


async def test_post_api_reviews_lands_in_the_default_team(
    shared_server: ServerProcess, http: httpx.AsyncClient
) -> None:
    created = await http.post("/api/reviews", json={"title": "Legacy style"})
    assert created.status_code == 201, created.text
    review_id = created.json()["id"]
    with database(shared_server) as db:
        team = db.execute("SELECT data FROM records WHERE kind = 'team' AND id = 't_default'")
        assert team.fetchone() is not None
        row = db.execute(
            "SELECT data FROM records WHERE kind = 'review' AND id = ?", (review_id,)
        ).fetchone()
        assert json.loads(row[0])["team_id"] == "t_default"
        member = db.execute(
            "SELECT member FROM index_entries WHERE idx = 'team/t_default/reviews' AND member = ?",
            (review_id,),
        ).fetchone()
        assert member is not None
