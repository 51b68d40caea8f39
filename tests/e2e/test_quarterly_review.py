"""Recurring themes and the quarterly review on a real server.

Three closed reviews name similar themes; the server suggests groups (the same ones on
every read), a member confirms one and splits another. The grouping survives a restart
and a new closed review (whose similar theme is only suggested for the confirmed group).
A quarterly review covering the period shows the covered reviews' insights to every
role on its pre-read API, and its agenda walks the recurring themes to the
highest-friction one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from support.server import ServerProcess
from support.teams import Team, new_team

TODAY = datetime.now(UTC).date()
SOON = (TODAY + timedelta(days=30)).isoformat()
ALERTS = ("Alerts went to the wrong on-call rota", "Alert routed to the wrong on-call rota",
          "Alerts sent to wrong on call rota")  # fmt: skip
# (title, themes [(title, votes)], actions [(what, owner)])
REVIEWS = [
    ("Checkout outage", [(ALERTS[0], 3), ("Rollback needed manual steps", 1),
                         ("Status page updated late", 2)],
     [("Fix the rota sync", "Jonas Berg"), ("Script the rollback", "Priya Shah")]),
    ("Search slowdown", [(ALERTS[1], 2), ("The rollback needed many manual steps", 2),
                         ("Vendor contact list out of date", 1)],
     [("Route search alerts to the search rota", "Jonas Berg")]),
    ("Login errors", [(ALERTS[2], 1), ("Status page update came late", 3)],
     [("Page the identity rota first", "Priya Shah")]),
]  # fmt: skip
NEW_REVIEW = ("Payments delay", [("Alerts go to the wrong on-call rota", 2)],
              [("Check the payments rota", "Jonas Berg")])  # fmt: skip
CONFIRMED_NAME = "Paging reaches the wrong people"


class Sessions:
    """One review's sessions by role, over HTTP."""

    def __init__(self, http: httpx.AsyncClient, review_id: str, tokens: dict[str, str]) -> None:
        self.http, self.id, self.tokens = http, review_id, tokens

    async def call(self, who: str, method: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return await self.http.request(
            method, f"/api/reviews/{self.id}{path}", json=body, headers=headers
        )

    async def ok(self, who: str, method: str, path: str, body: Any = None) -> Any:
        answer = await self.call(who, method, path, body)
        assert answer.status_code in (200, 201), (method, path, answer.text)
        return answer.json()


async def join_all(http: httpx.AsyncClient, created: dict[str, Any]) -> Sessions:
    tokens = {}
    for role in ("moderator", "scribe", "participant", "observer"):
        joined = await http.post(
            "/api/join", json={"invite": created["invites"][role], "name": f"{role.title()} P"}
        )
        assert joined.status_code == 200, joined.text
        tokens[role] = joined.json()["token"]
    return Sessions(http, created["id"], tokens)


async def closed_review(http: httpx.AsyncClient, team: Team, seeded: tuple) -> str:
    title, themes, actions = seeded
    review = await join_all(http, await team.ok("member", "POST", "/reviews", {"title": title}))
    settings = {"hide_counts_until_closed": False, "votes_per_person": 10}
    await review.ok("moderator", "PATCH", "", {"settings": settings})
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    ids = []
    for theme, _ in themes:
        made = await review.ok(
            "moderator", "POST", "/themes", {"title": theme, "category": "process-gap"}
        )
        ids.append(made["id"])
    await review.ok("moderator", "POST", "/voting/open", {"section": "contributing-factor"})
    voters = ("moderator", "scribe", "participant")
    for theme_id, (_, votes) in zip(ids, themes, strict=True):
        for who in voters[:votes]:
            await review.ok(who, "POST", "/votes", {"target": theme_id})
    await review.ok("moderator", "POST", "/voting/close", {"section": "contributing-factor"})
    people = {
        p["name"]: p["id"] for p in (await review.ok("moderator", "GET", "/people"))["people"]
    }
    for what, owner in actions:
        if owner not in people:
            people[owner] = (await review.ok("moderator", "POST", "/people", {"name": owner}))["id"]
        action = {"what": what, "owner_id": people[owner], "due": SOON,
                  "verify": "At the next drill", "kind": "documentation-ownership"}  # fmt: skip
        await review.ok("moderator", "POST", "/actions", action)
    await review.ok("moderator", "POST", "/close", {})
    return review.id


def refs_by_title(view: dict[str, Any]) -> dict[str, str]:
    return {t["title"]: t["ref"] for g in view["groups"] for t in [*g["themes"], *g["suggested"]]}


def group_with(view: dict[str, Any], title: str) -> dict[str, Any]:
    return next(g for g in view["groups"] if any(t["title"] == title for t in g["themes"]))


async def test_quarterly_review_of_recurring_themes(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data").start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            team = await new_team(http)
            first = [await closed_review(http, team, seeded) for seeded in REVIEWS]

            # Suggestions: the same on every read.
            view = await team.ok("member", "GET", "/themes")
            again = await team.ok("member", "GET", "/themes")
            assert view["groups"] == again["groups"] and view["reviews"] == 3
            shapes = sorted(sorted(t["title"] for t in g["themes"]) for g in view["groups"])
            assert shapes == [
                sorted(ALERTS),
                ["Rollback needed manual steps", "The rollback needed many manual steps"],
                ["Status page update came late", "Status page updated late"],
            ]
            assert not any(g["confirmed"] for g in view["groups"])
            alerts = group_with(view, ALERTS[0])
            assert alerts["reviews"] == 3 and alerts["votes"] == 6
            assert alerts["actions"]["open"] == 4 and alerts["friction_rank"] == 1
            refs = refs_by_title(view)

            # Confirm the alerts group, split the status-page one.
            keep = {"refs": [refs[t] for t in ALERTS], "name": CONFIRMED_NAME}
            confirmed = await team.ok("member", "POST", "/themes/confirm", keep)
            group_id = confirmed["group"]["id"]
            status = group_with(view, "Status page updated late")
            split = {"group": status["id"], "refs": [refs["Status page update came late"]]}
            await team.ok("member", "POST", "/themes/split", split)
            split = {"group": status["id"], "refs": [refs["Status page updated late"]]}
            stale = await team.call("member", "POST", "/themes/split", split)
            assert stale.status_code == 409 and stale.json()["error"] == "stale-group"
            bad = await team.call(
                "member", "POST", "/themes/confirm", {"refs": ["r_nope:cf1", refs[ALERTS[0]]]}
            )
            assert bad.status_code == 404 and bad.json()["error"] == "unknown-theme"
            outsider = await team.call(None, "GET", "/themes")
            assert outsider.status_code == 401

            friction = await team.ok("member", "GET", "/friction")
            top = friction["friction"][0]
            assert top["id"] == group_id and top["name"] == CONFIRMED_NAME
            assert top["reason"].startswith("in 3 reviews, 6 votes, 4 actions not verified")
            assert top["decided_by"] == "reviews"
    finally:
        server.stop()

    # A restart and a new closed review: the grouping stays as people left it.
    server = ServerProcess(tmp_path / "data", port=server.port).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            team = Team(http, team.id, team.name, team.links, team.tokens)
            newest = await closed_review(http, team, NEW_REVIEW)
            view = await team.ok("member", "GET", "/themes")
            kept = next(g for g in view["groups"] if g["id"] == group_id)
            assert kept["confirmed"] and kept["name"] == CONFIRMED_NAME
            assert sorted(t["title"] for t in kept["themes"]) == sorted(ALERTS)
            assert [t["title"] for t in kept["suggested"]] == [NEW_REVIEW[1][0][0]]
            assert [t["review_id"] for t in kept["suggested"]] == [newest]
            assert not any(
                {"Status page updated late", "Status page update came late"}
                <= {t["title"] for t in g["themes"]}
                for g in view["groups"]
            )

            # The quarterly review of the period.
            today = datetime.now(UTC).date()  # not the module's TODAY: a run may cross midnight
            until = today.isoformat()
            since = (today - timedelta(days=30)).isoformat()
            body = {"title": "Q review", "covers": {"since": since, "until": until}}
            quarterly = await join_all(http, await team.ok("member", "POST", "/reviews", body))
            insights = await quarterly.ok("observer", "GET", "/insights")
            assert sorted(r["review_id"] for r in insights["reviews"]) == sorted([*first, newest])
            assert insights["covers"]["review_ids"] and insights["friction"][0]["id"] == group_id
            figures = insights["figures"]
            assert figures["reviews"] == 4
            assert figures["follow_through"]["totals"]["created"] == 5
            process_gap = next(c for c in figures["categories"] if c["category"] == "process-gap")
            assert process_gap["themes"] == 9 and process_gap["reviews"] == 4
            for role in ("moderator", "scribe", "participant"):
                assert (await quarterly.ok(role, "GET", "/insights"))["reviews"] == insights[
                    "reviews"
                ]
            agenda = (await quarterly.ok("observer", "GET", "/agenda"))["agenda"]
            ids = [p["id"] for p in agenda]
            assert ids.index("friction") > ids.index("theme-2") > ids.index("insights")
            highest = next(p for p in agenda if p["id"] == "friction")
            assert highest["title"] == f"Highest friction: {CONFIRMED_NAME}"
            assert "in 3 reviews" in highest["objective"]
            walked = next(p for p in agenda if p["id"] == "theme-2")
            assert walked["title"].startswith("Recurring theme: ")
            listed = await team.ok("member", "GET", "/reviews", params={"q": "Q review"})
            assert listed["reviews"][0]["kind"] == "recurring-pattern"

            # Covering chosen reviews; refused covers.
            chosen = {"title": "Two reviews", "covers": {"review_ids": first[:2]}}
            two = await join_all(http, await team.ok("member", "POST", "/reviews", chosen))
            assert len((await two.ok("participant", "GET", "/insights"))["reviews"]) == 2
            unknown = {"title": "x", "covers": {"review_ids": ["r_unknown"]}}
            wrong = await team.call("member", "POST", "/reviews", unknown)
            assert wrong.status_code == 404
            both = await team.call("member", "POST", "/reviews", {"title": "x", "covers": {
                "review_ids": first, "since": since, "until": until}})  # fmt: skip
            assert both.status_code == 422
            no_day = {"title": "x", "covers": {"since": "2026-02-30", "until": until}}
            assert (await team.call("member", "POST", "/reviews", no_day)).status_code == 422
            plain = await join_all(
                http, await team.ok("member", "POST", "/reviews", {"title": "p"})
            )
            none = await plain.call("observer", "GET", "/insights")
            assert none.status_code == 404 and none.json()["error"] == "no-covers"
    finally:
        server.stop()
