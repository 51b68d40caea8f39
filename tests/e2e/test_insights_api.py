"""Insights on a real server: two reviews of a team go through a meeting (themes with
categories and votes, a timeline with markers, actions) and close through the API; the
team's insights count what they held, follow a status change, and each figure downloads
as CSV that parses and as JSON."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from support.server import ServerProcess
from support.teams import Team, new_team, team_review

TODAY = datetime.now(UTC).date()
LATER = (TODAY + timedelta(days=30)).isoformat()
TIMELINE = (
    "time,text,source,link,markers\n"
    "2026-01-05T09:00:00Z,Error rate alert,alert,,first-signal\n"
    "2026-01-05T09:12:00Z,On-call acknowledges,chat,,first-response\n"
    "2026-01-05T10:00:00Z,Payments team paged,chat,,escalation-delay\n"
)


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


async def closed_review(
    server: ServerProcess,
    team: Team,
    title: str,
    themes: list[tuple[str, str, int]],
    actions: list[str],
    timeline: str = "",
) -> dict[str, Any]:
    """A review that held these themes (title, category, votes) and actions, closed."""
    review = await team_review(server, team, title)
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    ids = []
    for theme_title, category, _ in themes:
        made = await review.ok("moderator", "POST", "/themes",
                               {"title": theme_title, "category": category})  # fmt: skip
        ids.append(made["id"])
    await review.ok("moderator", "POST", "/voting/open", {"section": "contributing-factor"})
    voters = ["participant", "scribe", "moderator"]
    for theme_id, (_, _, votes) in zip(ids, themes, strict=True):
        for n in range(votes):
            await review.ok(voters[n % len(voters)], "POST", "/votes", {"target": theme_id})
    await review.ok("moderator", "POST", "/voting/close", {"section": "contributing-factor"})
    if timeline:
        await review.ok(
            "scribe", "POST", "/timeline/import", {"content": timeline, "format": "csv"}
        )
    made_actions = []
    for what in actions:
        made_actions.append(await review.ok("scribe", "POST", "/actions", {
            "what": what, "owner": "Priya N", "due": LATER, "kind": "monitoring",
            "verify": "The next two deploys show it in the release log"}))  # fmt: skip
    closed = await review.call("moderator", "POST", "/close", {"reason": "Agreed"})
    assert closed.status_code == 200, closed.text
    return {"id": review.id, "gids": [f"{review.id}.{a['id']}" for a in made_actions]}


async def test_insights_of_two_closed_reviews(
    server: ServerProcess, http: httpx.AsyncClient
) -> None:
    team = await new_team(http)
    first = await closed_review(
        server, team, "Checkout outage",
        [("Nobody owned the pager", "role-ambiguity", 2), ("Deploy tool hid errors", "tooling", 1)],
        ["Name a pager owner", "Alert on deploy errors"], TIMELINE,
    )  # fmt: skip
    await closed_review(server, team, "Search latency",
                        [("Runbook did not say who decides", "role-ambiguity", 1)],
                        ["Write the search runbook"])  # fmt: skip

    found = await team.ok("member", "GET", "/insights")
    today = date.fromisoformat(found["period"]["until"])  # the server's day at the request
    assert today in (TODAY, TODAY + timedelta(days=1))  # a run may cross midnight (UTC)
    assert found["period"]["since"] == (today - timedelta(days=89)).isoformat()
    assert found["reviews"] == 2
    categories = {c["category"]: (c["themes"], c["reviews"], c["votes"])
                  for c in found["categories"]}  # fmt: skip
    assert categories["role-ambiguity"] == (2, 2, 3)
    assert categories["tooling"] == (1, 1, 1) and categories["process-gap"] == (0, 0, 0)
    month = today.strftime("%Y-%m")
    trend = found["category_trend"]
    at = trend["months"].index(month)
    role = next(s for s in trend["series"] if s["category"] == "role-ambiguity")
    assert role["themes"][at] == 2 and role["votes"][at] == 3 and sum(role["themes"]) == 2
    totals = found["follow_through"]["totals"]
    assert (totals["created"], totals["open"], totals["done"]) == (3, 3, 0)
    assert totals["verification_rate"] is None and totals["median_days_to_done"] is None
    assert [(r["review_id"], r["signal_to_response_min"], r["signal_to_escalation_min"])
            for r in found["timeline"]["reviews"]] == [(first["id"], 12.0, 60.0)]  # fmt: skip

    # a status change from the team page shows in the figures at once
    done = {"status": "done", "evidence": {"text": "Rota has an owner"}}
    moved = await team.call("admin", "POST", f"/actions/{first['gids'][0]}/status", done)
    assert moved.status_code == 200, moved.text
    totals = (await team.ok("member", "GET", "/insights"))["follow_through"]["totals"]
    assert (totals["created"], totals["open"], totals["done"]) == (3, 2, 1)
    assert totals["median_days_to_done"] == 0.0 and totals["verification_rate"] == 0.0
    owner = (await team.ok("member", "GET", "/insights"))["follow_through"]["by_owner"][0]
    assert owner["owner"] == "Priya N" and owner["created"] == 3 and owner["owner_id"]

    # a period before the reviews closed holds nothing
    empty = await team.ok("member", "GET", "/insights?since=2020-01-01&until=2020-03-31")
    assert empty["reviews"] == 0 and empty["follow_through"]["totals"]["created"] == 0

    # downloads: CSV that parses, JSON rows
    got = await team.call("member", "GET", "/insights?figure=categories&format=csv")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(got.text)))
    by_category = {r["category"]: r for r in rows}
    assert by_category["role-ambiguity"]["votes"] == "3" and len(rows) == 6
    got = await team.call("member", "GET", "/insights?figure=follow-through-by-owner&format=json")
    assert got.status_code == 200
    assert got.json()["rows"][0]["owner"] == "Priya N" and got.json()["rows"][0]["done"] == 1
    for figure in ("category-trend", "timeline", "timeline-distribution", "follow-through"):
        got = await team.call("member", "GET", f"/insights?figure={figure}")
        assert got.status_code == 200 and list(csv.reader(io.StringIO(got.text))), figure

    # a deleted review leaves the figures
    gone = await team.call("admin", "DELETE", f"/reviews/{first['id']}",
                           {"confirm": "Checkout outage"})  # fmt: skip
    assert gone.status_code == 200, gone.text
    after = await team.ok("member", "GET", "/insights")
    assert after["reviews"] == 1 and after["follow_through"]["totals"]["created"] == 1
    assert after["timeline"]["reviews"] == []

    # bad input: clear 422s; no session: 401
    for query in (
        "since=2026-13-01",
        "since=2026-03-01&until=2026-01-01",
        "figure=nope",
        "figure=categories&format=xml",
        "since=2000-01-01&until=2026-01-01",
    ):
        bad = await team.call("member", "GET", f"/insights?{query}")
        assert bad.status_code == 422 and bad.json()["error"] == "invalid-query", query
    assert (await team.call(None, "GET", "/insights")).status_code == 401
