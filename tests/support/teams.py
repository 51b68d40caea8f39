"""A team with an admin and a member session, and reviews made inside it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from support.meeting import ROLES, Review
from support.server import ServerProcess


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Team:
    http: httpx.AsyncClient
    id: str
    name: str
    links: dict[str, str]
    tokens: dict[str, str]  # "admin" / "member" -> team session token

    @property
    def base(self) -> str:
        return f"/api/teams/{self.id}"

    def headers(self, who: str | None) -> dict[str, str]:
        return bearer(self.tokens[who]) if who else {}

    async def call(
        self, who: str | None, method: str, path: str, body: Any = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.http.request(
            method, self.base + path, json=body, headers=self.headers(who), **kwargs
        )

    async def ok(self, who: str, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        response = await self.call(who, method, path, body, **kw)
        assert response.status_code in (200, 201), (method, path, response.text)
        return response.json()


async def join_team(http: httpx.AsyncClient, link: str, name: str = "") -> httpx.Response:
    return await http.post("/api/teams/join", json={"link": link, "name": name})


async def join_team_token(http: httpx.AsyncClient, link: str, name: str = "") -> str:
    """A new team session's token (the cookie the join sets is not kept)."""
    joined = await join_team(http, link, name)
    http.cookies.clear()
    assert joined.status_code == 200, joined.text
    token: str = joined.json()["token"]
    return token


async def new_team(http: httpx.AsyncClient, name: str = "Payments") -> Team:
    created = await http.post("/api/teams", json={"name": name})
    assert created.status_code == 201, created.text
    data = created.json()
    tokens = {}
    for role, person in (("admin", "Ada Admin"), ("member", "Mel Member")):
        joined = await join_team(http, data["links"][role], person)
        assert joined.status_code == 200, joined.text
        tokens[role] = joined.json()["token"]
    http.cookies.clear()  # who calls is said by each call's bearer token, never a cookie
    return Team(http, data["id"], data["name"], data["links"], tokens)


async def team_review(
    server: ServerProcess, team: Team, title: str, *, roles: tuple[str, ...] = ROLES
) -> Review:
    """A review created in the team, with a session per role."""
    data = await team.ok("member", "POST", "/reviews", {"title": title})
    review = Review(server, data["id"], data["invites"], {}, team.http)
    for role in roles:
        review.people[role] = await review.join(role, f"{role.title()} Person")
    return review
