"""A review with one session per role, and an HTTP helper that speaks as any of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from support.api import create_review, join
from support.server import ServerProcess
from support.yclient import YClient

ROLES = ("moderator", "scribe", "participant", "observer")


@dataclass
class Person:
    role: str
    token: str
    participant_id: str
    name: str
    session: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Review:
    server: ServerProcess
    id: str
    invites: dict[str, str]
    people: dict[str, Person]
    http: httpx.AsyncClient

    @property
    def base(self) -> str:
        return f"/api/reviews/{self.id}"

    async def join(self, role: str, name: str = "") -> Person:
        data = await join(self.server.url, self.invites[role], name)
        return Person(role, data["token"], data["participant_id"], data["name"], data)

    async def call(
        self,
        who: Person | str | None,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        expect: int | None = None,
    ) -> httpx.Response:
        person = self.people[who] if isinstance(who, str) else who
        headers = dict(person.headers) if person else {}
        if raw is not None:
            headers["content-type"] = "application/json"
            response = await self.http.request(
                method, self.base + path, content=raw, headers=headers
            )
        else:
            response = await self.http.request(method, self.base + path, json=body, headers=headers)
        if expect is not None:
            assert response.status_code == expect, (method, path, response.text)
        return response

    async def ok(self, who: Person | str, method: str, path: str, body: Any = None) -> Any:
        response = await self.call(who, method, path, body)
        assert response.status_code in (200, 201), (method, path, response.text)
        return response.json()

    async def client(self, who: Person | str, doc: str) -> YClient:
        person = self.people[who] if isinstance(who, str) else who
        client = YClient(self.server.ws_url, self.id, doc, person.token)
        return await (await client.connect()).wait_synced()


async def open_review(server: ServerProcess, http: httpx.AsyncClient, title: str = "") -> Review:
    created = await create_review(server.url, title or "Checkout outage")
    review = Review(server, created["id"], created["invites"], {}, http)
    for role in ROLES:
        review.people[role] = await review.join(role, f"{role.title()} Person")
    return review
