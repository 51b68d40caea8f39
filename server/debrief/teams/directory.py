"""A team's people: one record per person, found by id, by personal link or by name.

Adding is done under one lock per team, so two people typing the same new owner at the
same moment (or a close and a migration) end up with one person, not two.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from debrief.followup import people as pp
from debrief.meeting.errors import Conflict, NotFound
from debrief.storage.base import Storage
from debrief.teams.keys import PERSON, PERSON_LINK, PERSON_NAME, people_index


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def index_row(person: dict[str, Any]) -> dict[str, Any]:
    """What the directory lists of a person (the link only admins get to see)."""
    return {k: person.get(k, "") for k in ("id", "name", "email", "handle", "link")}


class Directory:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def lock(self, team_id: str) -> Any:
        return self.storage.lock(f"people:{team_id}")

    async def people(self, team_id: str) -> list[dict[str, Any]]:
        """Everyone in the team's directory, oldest first (read from its index)."""
        rows = await self.storage.index_range(people_index(team_id))
        return [index_row(r.data) for r in rows]

    async def person(self, team_id: str, person_id: str) -> dict[str, Any]:
        found = await self.storage.get_record(PERSON, person_id)
        if found is None or found.get("team_id") != team_id:
            raise NotFound("this team has no such person", error="unknown-person")
        return found

    async def by_name(self, team_id: str, name: str) -> dict[str, Any] | None:
        if not pp.fold_name(name):
            return None
        pointer = await self.storage.get_record(PERSON_NAME, pp.name_key(team_id, name))
        if pointer is None:
            return None
        found = await self.storage.get_record(PERSON, str(pointer.get("person_id", "")))
        return found if found is not None and found.get("team_id") == team_id else None

    async def by_link(self, code: str) -> dict[str, Any] | None:
        """The person whose personal link this is (None when unknown or replaced)."""
        pointer = await self.storage.get_record(PERSON_LINK, code) if code else None
        if pointer is None:
            return None
        found = await self.storage.get_record(PERSON, str(pointer.get("person_id", "")))
        return found if found is not None and found.get("link") == code else None

    async def add(
        self, team_id: str, name: Any, email: Any = "", handle: Any = ""
    ) -> tuple[dict[str, Any], bool]:
        """The person of that name, added when missing; True when they already existed."""
        fields = pp.validate_person(name, email, handle)
        async with self.lock(team_id):
            existing = await self.by_name(team_id, fields["name"])
            if existing is not None:
                return existing, True
            person: dict[str, Any] = {
                "id": "pe_" + secrets.token_hex(8),
                "team_id": team_id,
                **fields,
                "link": secrets.token_urlsafe(18),
                "created_ms": now_ms(),
            }
            await self._write_link(person)
            await self._save(person)
            await self.storage.put_record(
                PERSON_NAME, pp.name_key(team_id, person["name"]),
                {"person_id": person["id"]}, team_id,
            )  # fmt: skip
            return person, False

    async def patch(self, team_id: str, person_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Change name, email or handle; a new name must not be another person's."""
        async with self.lock(team_id):
            person = await self.person(team_id, person_id)
            changed = pp.apply_person_patch(person, patch)
            old_key = pp.name_key(team_id, person["name"])
            new_key = pp.name_key(team_id, changed["name"])
            if new_key != old_key:
                other = await self.by_name(team_id, changed["name"])
                if other is not None and other["id"] != person_id:
                    raise Conflict(
                        f"{other['name']} is already in the directory under that name",
                        error="name-taken",
                    )
                await self.storage.put_record(
                    PERSON_NAME, new_key, {"person_id": person_id}, team_id
                )
                await self.storage.delete_record(PERSON_NAME, old_key)
            await self._save(changed)
            return changed

    async def new_link(self, team_id: str, person_id: str) -> dict[str, Any]:
        """Give the person a fresh personal link; the old one stops working at once."""
        async with self.lock(team_id):
            person = await self.person(team_id, person_id)
            old = person.get("link")
            person = {**person, "link": secrets.token_urlsafe(18)}
            await self._write_link(person)
            await self._save(person)
            if isinstance(old, str) and old:
                await self.storage.delete_record(PERSON_LINK, old)
            return person

    async def _write_link(self, person: dict[str, Any]) -> None:
        link = {"code": person["link"], "person_id": person["id"], "team_id": person["team_id"]}
        await self.storage.put_record(PERSON_LINK, person["link"], link, person["team_id"])

    async def _save(self, person: dict[str, Any]) -> None:
        team_id = person["team_id"]
        await self.storage.put_record(PERSON, person["id"], person, team_id)
        await self.storage.index_put(
            people_index(team_id), person["id"], float(person["created_ms"]), index_row(person)
        )
