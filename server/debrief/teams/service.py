"""Teams: the team record, its links and sessions, and the way into its people and archive.

A team hands out two kinds of link, like a review hands out invites: an admin link and
a member link, each revocable and replaceable. Joining with one creates a team session;
its id is signed (itsdangerous, a salt of its own, so a review's session token is never
a team's) into the token browsers keep as the debrief_team_<team id> cookie.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from debrief.auth.names import clean_name
from debrief.auth.sessions import AuthError, SignedIds, invite_code_from
from debrief.meeting.errors import Conflict, NotFound
from debrief.meeting.service import FROZEN_RECAP
from debrief.meeting.values import clean_text
from debrief.storage.base import Storage
from debrief.teams import facts_store
from debrief.teams.actions import ActionTracker
from debrief.teams.archive import Archive
from debrief.teams.directory import Directory, now_ms
from debrief.teams.keys import (
    ACTION_STATE,
    DEFAULT_TEAM_ID,
    DEFAULT_TEAM_NAME,
    TEAM,
    TEAM_LINK,
    TEAM_SESSION,
    team_of,
)
from debrief.teams.theme_groups import ThemeGroups

log = logging.getLogger(__name__)

ADMIN, MEMBER = "admin", "member"
TEAM_ROLES = (ADMIN, MEMBER)
MAX_TEAM_NAME = 120
SESSION_SALT = "debrief-team-session"


def team_cookie(team_id: str) -> str:
    """The cookie that holds a browser's session for one team."""
    return f"debrief_team_{team_id}"


def role_allows(role: str, needed: tuple[str, ...]) -> bool:
    """Whether ``role`` may do what any of ``needed`` may; an admin may do what members may."""
    return role in needed or (role == ADMIN and MEMBER in needed)


@dataclass
class TeamSession:
    session_id: str
    team_id: str
    role: str
    name: str
    link: str
    created_ms: int

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> TeamSession:
        return cls(
            str(data["session_id"]),
            str(data["team_id"]),
            str(data["role"]),
            str(data.get("name", "")),
            str(data.get("link", "")),
            int(data.get("created_ms") or 0),
        )


def link_view(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": record["code"],
        "role": record["role"],
        "revoked": bool(record.get("revoked")),
    }


class TeamService:
    """Shared by every request (Services.teams); everything it keeps is in storage."""

    def __init__(self, storage: Storage, secret: str, ttl_s: int) -> None:
        self.storage = storage
        self.ttl_s = ttl_s
        self.people = Directory(storage)
        self.archive = Archive(storage)
        self._ids = SignedIds(
            secret,
            SESSION_SALT,
            ttl_s,
            missing="no team session: open the team through its link",
            expired="this team session has expired: open the team link again",
            invalid="this is not a team session token",
        )
        self._default_seen = False

    # --- teams ---------------------------------------------------------------------

    async def create_team(self, name: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """A new team and its two links (admin, member)."""
        clean = clean_text(name, "name", max_len=MAX_TEAM_NAME, min_len=1, single_line=True)
        team: dict[str, Any] = {
            "id": "t_" + secrets.token_urlsafe(9),
            "name": clean,
            "created_ms": now_ms(),
        }
        await self.storage.put_record(TEAM, team["id"], team, team["id"])
        links = {role: await self._new_link(team["id"], role) for role in TEAM_ROLES}
        return team, links

    async def ensure_default_team(self) -> dict[str, Any]:
        """The default team, created on first need (reviews made without a team go here)."""
        found = await self.storage.get_record(TEAM, DEFAULT_TEAM_ID)
        if found is not None:
            return found
        async with self.storage.lock(f"team:{DEFAULT_TEAM_ID}"):
            found = await self.storage.get_record(TEAM, DEFAULT_TEAM_ID)
            if found is not None:
                return found
            team: dict[str, Any] = {
                "id": DEFAULT_TEAM_ID,
                "name": DEFAULT_TEAM_NAME,
                "created_ms": now_ms(),
            }
            await self.storage.put_record(TEAM, DEFAULT_TEAM_ID, team, DEFAULT_TEAM_ID)
            for role in TEAM_ROLES:
                await self._new_link(DEFAULT_TEAM_ID, role)
            log.info("created the default team")
            return team

    async def team(self, team_id: str) -> dict[str, Any]:
        found = await self.storage.get_record(TEAM, team_id)
        if found is None:
            raise NotFound("there is no team with this id", error="unknown-team")
        return found

    async def counts(self, team_id: str) -> dict[str, Any]:
        """Reviews per status, actions per status and overdue actions (index counts)."""
        actions = await ActionTracker(self.storage).counts(team_id, datetime.now(UTC).date())
        return {"reviews": await self.archive.counts(team_id), **actions}

    # --- links ---------------------------------------------------------------------

    async def _new_link(self, team_id: str, role: str) -> dict[str, Any]:
        record: dict[str, Any] = {
            "code": secrets.token_urlsafe(18),
            "team_id": team_id,
            "role": role,
            "revoked": False,
        }
        await self.storage.put_record(TEAM_LINK, record["code"], record, team_id)
        return record

    async def links(self, team_id: str) -> list[dict[str, Any]]:
        return [link_view(r) for r in await self.storage.list_records(TEAM_LINK, team_id)]

    async def rotate_link(
        self, team_id: str, role: str
    ) -> tuple[dict[str, Any], list[str], list[str]]:
        """A new link for ``role``; the role's old links are revoked and their sessions end.

        Returns the new link, the revoked codes and the ended session ids."""
        async with self.storage.lock(f"team-links:{team_id}"):
            fresh = await self._new_link(team_id, role)
            revoked: list[str] = []
            for record in await self.storage.list_records(TEAM_LINK, team_id):
                if (
                    record["role"] == role
                    and not record.get("revoked")
                    and record["code"] != fresh["code"]
                ):
                    await self._mark_revoked(record)
                    revoked.append(record["code"])
        ended = await self._end_sessions(team_id, set(revoked))
        return link_view(fresh), revoked, ended

    async def revoke_link(self, team_id: str, code: str) -> list[str]:
        """Revoke one link of the team; returns the ids of the sessions that ended."""
        record = await self.storage.get_record(TEAM_LINK, code)
        if record is None or record.get("team_id") != team_id:
            raise NotFound("this team has no link with that code", error="unknown-link")
        if record.get("revoked"):
            raise Conflict("this link is already revoked", error="already-revoked")
        await self._mark_revoked(record)
        return await self._end_sessions(team_id, {code})

    async def _mark_revoked(self, record: dict[str, Any]) -> None:
        await self.storage.put_record(
            TEAM_LINK, record["code"], {**record, "revoked": True}, record["team_id"]
        )

    async def _end_sessions(self, team_id: str, codes: set[str]) -> list[str]:
        """Delete the sessions joined through ``codes`` (and any expired ones on the way)."""
        ended = []
        expired_ms = (datetime.now(UTC).timestamp() - self.ttl_s) * 1000
        for data in await self.storage.list_records(TEAM_SESSION, team_id):
            if data.get("link") in codes or int(data.get("created_ms") or 0) < expired_ms:
                await self.storage.delete_record(TEAM_SESSION, str(data["session_id"]))
                if data.get("link") in codes:
                    ended.append(str(data["session_id"]))
        return ended

    # --- sessions ------------------------------------------------------------------

    async def join(self, link_text: str, name: str) -> tuple[TeamSession, str]:
        code = invite_code_from(link_text)
        record = await self.storage.get_record(TEAM_LINK, code) if code else None
        if record is None:
            raise AuthError("this team link is not known")
        if record.get("revoked"):
            raise AuthError("this team link has been revoked: ask a team admin for a new one")
        session = TeamSession(
            session_id=secrets.token_urlsafe(18),
            team_id=str(record["team_id"]),
            role=str(record["role"]),
            name=clean_name(name),
            link=code,
            created_ms=now_ms(),
        )
        await self.storage.put_record(
            TEAM_SESSION, session.session_id, session.to_record(), session.team_id
        )
        return session, self.sign(session.session_id)

    def sign(self, session_id: str) -> str:
        return self._ids.sign(session_id)

    async def authenticate(self, token: str | None) -> TeamSession:
        record = await self.storage.get_record(TEAM_SESSION, self._ids.unsign(token))
        if record is None:
            raise AuthError("this team session has ended")
        return TeamSession.from_record(record)

    # --- people --------------------------------------------------------------------

    async def find_or_add_person(
        self, team_id: str, name: str, email: str = "", handle: str = ""
    ) -> dict[str, Any]:
        """The team's person of that (folded) name, added when there is none yet."""
        person, _ = await self.people.add(team_id, name, email, handle)
        return person

    # --- the reviews index ---------------------------------------------------------

    async def review_created(self, review: dict[str, Any], template: str = "") -> None:
        """A new review: make sure its team exists (the default one is made on demand)."""
        if team_of(review) == DEFAULT_TEAM_ID and not self._default_seen:
            await self.ensure_default_team()
            self._default_seen = True
        await self.archive.review_changed(review, template)

    async def review_changed(self, review: dict[str, Any], template: str) -> None:
        """A review record was saved (fields, status, close) or its agenda template changed."""
        actions = None
        if review.get("status") == "closed":
            actions = await self._frozen_action_count(str(review["id"]))
        await self.archive.review_changed(review, template, actions)

    async def _frozen_action_count(self, review_id: str) -> int | None:
        frozen = await self.storage.get_record(FROZEN_RECAP, review_id)
        actions = frozen.get("actions") if frozen else None
        return len(actions) if isinstance(actions, list) else None

    # --- deleting a review -----------------------------------------------------------

    async def delete_review(self, team_id: str, review_id: str) -> int:
        """Delete a review for good: its records, docs and ballots, and every index row
        of it and of its actions. Returns how many tracked actions went with it.

        The actions are read before the purge takes them; the index rows go after it,
        so a purge that fails leaves the review listed, and deleting it again finishes.
        """
        actions = await self.storage.list_records(ACTION_STATE, review_id)
        await self.storage.purge_review(review_id)
        tracker = ActionTracker(self.storage)
        for state in actions:
            await tracker.forget({**state, "team_id": team_id})
        await facts_store.forget(self.storage, team_id, review_id)  # insights forget it too
        await ThemeGroups(self.storage).forget_review(team_id, review_id)
        await self.archive.forget(team_id, review_id)
        return len(actions)
