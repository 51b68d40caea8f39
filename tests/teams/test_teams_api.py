"""Teams through the API of a real server: life cycle, links, roles and people."""

from __future__ import annotations

import asyncio

import httpx

from support.server import ServerProcess
from support.teams import Team, bearer, join_team, join_team_token, new_team, team_review


async def test_team_life_cycle(http: httpx.AsyncClient, team: Team) -> None:
    assert team.id.startswith("t_")
    assert team.links["admin"].startswith(str(http.base_url).rstrip("/") + "/tj/")
    assert team.links["admin"] != team.links["member"]

    seen = await team.ok("member", "GET", "")
    assert seen["id"] == team.id and seen["name"] == "Payments"
    assert seen["you"] == {"role": "member", "name": "Mel Member"}
    assert seen["counts"]["reviews"] == {"draft": 0, "scheduled": 0, "live": 0, "closed": 0}
    assert seen["counts"]["actions"] == {
        "open": 0, "in-progress": 0, "done": 0, "verified": 0, "wont-do": 0,
    }  # fmt: skip
    assert seen["counts"]["overdue"] == 0
    assert (await team.ok("admin", "GET", ""))["you"]["role"] == "admin"

    # a review made in the team counts there
    created = await team.ok("member", "POST", "/reviews", {"title": "Card declines"})
    assert set(created["invites"]) == {"moderator", "scribe", "participant", "observer"}
    counts = (await team.ok("member", "GET", ""))["counts"]
    assert counts["reviews"]["draft"] == 1

    # refusals: nobody, a forged token, a bad link, an empty name, another team
    nobody = await team.call(None, "GET", "")
    assert nobody.status_code == 401 and nobody.json()["error"] == "unauthenticated"
    forged = await http.get(f"{team.base}", headers=bearer("not-a-token"))
    assert forged.status_code == 401
    bad = await join_team(http, "https://example.com/tj/nope")
    assert bad.status_code == 403 and bad.json()["error"] == "link-invalid"
    empty = await http.post("/api/teams", json={"name": "   "})
    assert empty.status_code == 422
    other = await new_team(http, "Search")
    crossed = await http.get(other.base, headers=team.headers("admin"))
    assert crossed.status_code == 403 and crossed.json()["error"] == "other-team"
    unknown = await http.get("/api/teams/t_unknown", headers=team.headers("admin"))
    assert unknown.status_code == 404 and unknown.json()["error"] == "unknown-team"


async def test_links_rotate_and_revoke(http: httpx.AsyncClient, team: Team) -> None:
    listed = (await team.ok("admin", "GET", "/links"))["links"]
    assert sorted(link["role"] for link in listed) == ["admin", "member"]
    assert all(link["url"].endswith("/tj/" + link["code"]) for link in listed)
    old_member_code = next(link["code"] for link in listed if link["role"] == "member")

    rotated = await team.ok("admin", "POST", "/links/rotate", {"role": "member"})
    assert rotated["revoked"] == [old_member_code]
    assert rotated["sessions_ended"] == 1 and rotated["your_session_ended"] is False
    # the member's session ended with the old link, which no longer lets anyone in
    assert (await team.call("member", "GET", "")).status_code == 401
    again = await join_team(http, team.links["member"], "Late Member")
    assert again.status_code == 403 and again.json()["error"] == "link-invalid"

    member = bearer(await join_team_token(http, rotated["link"]["url"], "New Member"))
    assert (await http.get(team.base, headers=member)).status_code == 200

    code = rotated["link"]["code"]
    revoked = await team.ok("admin", "POST", f"/links/{code}/revoke")
    assert revoked == {"revoked": code, "sessions_ended": 1}
    assert (await http.get(team.base, headers=member)).status_code == 401
    twice = await team.call("admin", "POST", f"/links/{code}/revoke")
    assert twice.status_code == 409 and twice.json()["error"] == "already-revoked"
    unknown = await team.call("admin", "POST", "/links/nope/revoke")
    assert unknown.status_code == 404
    # the admin is untouched by what happened to the member links
    assert (await team.call("admin", "GET", "/links")).status_code == 200


async def test_member_cannot_administer(http: httpx.AsyncClient, team: Team) -> None:
    person = await team.ok("member", "POST", "/people", {"name": "Priya"})
    review = await team.ok("member", "POST", "/reviews", {"title": "Refund delays"})
    refused = [
        ("GET", "/links", None),
        ("POST", "/links/rotate", {"role": "admin"}),
        ("POST", "/links/any/revoke", None),
        ("DELETE", f"/reviews/{review['id']}", {"confirm": "Refund delays"}),
        ("PATCH", f"/people/{person['id']}", {"email": "p@example.com"}),
        ("POST", f"/people/{person['id']}/link", None),
    ]
    for method, path, body in refused:
        response = await team.call("member", method, path, body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "forbidden"
    # and the review is still there
    listed = await team.ok("member", "GET", "/reviews")
    assert [r["id"] for r in listed["reviews"]] == [review["id"]]


async def test_a_review_session_sees_nothing_of_the_team(
    shared_server: ServerProcess, http: httpx.AsyncClient, team: Team
) -> None:
    review = await team_review(shared_server, team, "Login loop")
    paths = ["", "/reviews", "/people", "/links", "/actions"]
    for role, person in review.people.items():
        for path in paths:
            response = await http.get(team.base + path, headers=person.headers)
            assert response.status_code in (401, 403), (role, path, response.text)
        # nor through the review's own cookie
        http.cookies.set(f"debrief_session_{review.id}", person.token)
        response = await http.get(team.base)
        assert response.status_code == 401
        http.cookies.clear()
    # the observer may not read the team's directory from inside the review either
    observer = await review.call("observer", "GET", "/people")
    assert observer.status_code == 403
    # and a team session is not a review session
    as_team = await http.get(f"/api/reviews/{review.id}", headers=team.headers("admin"))
    assert as_team.status_code == 401


async def test_cookie_sessions_need_our_origin_for_changes(
    shared_server: ServerProcess, team: Team
) -> None:
    async with httpx.AsyncClient(base_url=shared_server.url) as browser:
        joined = await join_team(browser, team.links["member"], "Cookie Member")
        assert joined.status_code == 200
        assert browser.cookies.get(f"debrief_team_{team.id}") == joined.json()["token"]
        assert (await browser.get(team.base)).status_code == 200
        blind = await browser.post(team.base + "/people", json={"name": "Cross Site"})
        assert blind.status_code == 403 and blind.json()["error"] == "cross-origin"
        ours = await browser.post(
            team.base + "/people", json={"name": "Same Site"}, headers={"origin": shared_server.url}
        )
        assert ours.status_code == 201


async def test_people_directory(shared_server: ServerProcess, team: Team) -> None:
    added = await team.call(
        "member", "POST", "/people", {"name": "Priya Natarajan", "email": "priya@example.com"}
    )
    assert added.status_code == 201, added.text
    priya = added.json()
    assert priya["found"] is False and priya["id"].startswith("pe_")
    assert "link" not in priya  # a member never sees personal links
    same = await team.call("member", "POST", "/people", {"name": "  priya   NATARAJAN "})
    assert same.status_code == 200 and same.json()["found"] is True
    assert same.json()["id"] == priya["id"]

    bad_email = await team.call("member", "POST", "/people", {"name": "X", "email": "nope"})
    assert bad_email.status_code == 422 and bad_email.json()["field"] == "email"
    blank = await team.call("member", "POST", "/people", {"name": "\u200b "})
    assert blank.status_code == 422
    too_long = await team.call("member", "POST", "/people", {"name": "x" * 1000})
    assert too_long.status_code == 422

    sam = await team.ok("admin", "POST", "/people", {"name": "Sam Lee", "handle": "@sam"})
    as_member = (await team.ok("member", "GET", "/people"))["people"]
    assert [p["name"] for p in as_member] == ["Priya Natarajan", "Sam Lee"]
    assert all("link" not in p for p in as_member)
    as_admin = (await team.ok("admin", "GET", "/people"))["people"]
    links = {p["id"]: p["link"] for p in as_admin}
    assert links[sam["id"]].startswith(shared_server.url + "/p/")

    patched = await team.ok(
        "admin", "PATCH", f"/people/{priya['id']}", {"name": "Priya N", "handle": "@priya.n"}
    )
    assert patched["name"] == "Priya N" and patched["email"] == "priya@example.com"
    # the new name finds her; the old one is free again
    found = await team.call("member", "POST", "/people", {"name": "priya n"})
    assert found.status_code == 200 and found.json()["id"] == priya["id"]
    taken = await team.call("admin", "PATCH", f"/people/{priya['id']}", {"name": "sam lee"})
    assert taken.status_code == 409 and taken.json()["error"] == "name-taken"
    empty = await team.call("admin", "PATCH", f"/people/{priya['id']}", {})
    assert empty.status_code == 422
    unknown = await team.call("admin", "PATCH", "/people/pe_nobody", {"name": "Z"})
    assert unknown.status_code == 404

    old_code = links[priya["id"]].rsplit("/", 1)[-1]
    assert (await team.http.get(f"/api/p/{old_code}")).status_code == 200
    fresh = await team.ok("admin", "POST", f"/people/{priya['id']}/link")
    assert fresh["url"] != links[priya["id"]]
    assert (await team.http.get(f"/api/p/{old_code}")).status_code == 404
    new_code = fresh["url"].rsplit("/", 1)[-1]
    page = await team.http.get(f"/api/p/{new_code}")
    assert page.status_code == 200 and page.json()["person"]["name"] == "Priya N"


async def test_adding_the_same_name_at_once_makes_one_person(team: Team) -> None:
    names = ["Jo Park", "jo park", "JO  PARK", " Jo Park ", "jo\tpark"]
    answers = await asyncio.gather(
        *(team.call("member", "POST", "/people", {"name": n}) for n in names)
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1
    people = (await team.ok("member", "GET", "/people"))["people"]
    assert [p["name"] for p in people].count("Jo Park") == 1


async def test_review_scoped_people(shared_server: ServerProcess, team: Team) -> None:
    review = await team_review(shared_server, team, "Slow search")
    added = await review.call("scribe", "POST", "/people", {"name": "Dee Ops"})
    assert added.status_code == 201, added.text
    again = await review.call("moderator", "POST", "/people", {"name": "dee ops"})
    assert again.status_code == 200 and again.json()["id"] == added.json()["id"]
    refused = await review.call("participant", "POST", "/people", {"name": "Someone"})
    assert refused.status_code == 403
    listed = await review.ok("participant", "GET", "/people")
    assert [p["name"] for p in listed["people"]] == ["Dee Ops"]
    assert "link" not in listed["people"][0]
    # it is the team's directory
    team_people = (await team.ok("member", "GET", "/people"))["people"]
    assert [p["id"] for p in team_people] == [added.json()["id"]]
