"""Small async wrappers around the JSON API."""

from __future__ import annotations

from typing import Any

import httpx


async def create_review(
    base: str, title: str = "Checkout outage", **headers: str
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post("/api/reviews", json={"title": title}, headers=headers)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data


async def join(base: str, invite: str, name: str = "") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post("/api/join", json={"invite": invite, "name": name})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


async def participant_review(base: str) -> tuple[dict[str, Any], str]:
    """A new review and a participant's session token for it."""
    review = await create_review(base)
    return review, (await join(base, review["invites"]["participant"]))["token"]
