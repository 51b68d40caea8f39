"""Where the facts of closed reviews are kept (learning/facts.py builds them).

Written once when a review closes (http/exports_api.py, after its actions are indexed) and
by the schema 3 migration for reviews closed before; read by range of close time. Both
writes are idempotent: the facts come from the frozen version, which never changes.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from debrief.learning.facts import (
    REVIEW_FACTS,
    build,
    facts_index,
    followed_index,
    pack,
    unpack,
    with_action,
)
from debrief.meeting.service import FROZEN_RECAP, REVIEW
from debrief.storage.base import Storage
from debrief.teams import rollups
from debrief.teams.keys import ACTION_STATE, reviews_index, team_of

log = logging.getLogger(__name__)

# Record kind, id: team id -> {"stamp": token}: a new token after every change of what
# insights read of the team, so a process may keep figures until the stamp moves.
INSIGHTS_STAMP = "insights-stamp"


async def stamp(storage: Storage, team_id: str) -> str:
    """The team's current stamp ("" before its first change)."""
    found = await storage.get_record(INSIGHTS_STAMP, team_id)
    return str((found or {}).get("stamp") or "")


async def _touch(storage: Storage, team_id: str) -> None:
    # Written after the change it announces: a reader reads the stamp first, the data second.
    await storage.put_record(INSIGHTS_STAMP, team_id, {"stamp": secrets.token_hex(8)}, team_id)


async def record_closed(storage: Storage, review_id: str) -> dict[str, Any] | None:
    """Build and keep the facts of a closed review; None when it is not closed (or has no
    frozen version yet: a close that failed half-way writes them when it is retried)."""
    review = await storage.get_record(REVIEW, review_id)
    if review is None or review.get("status") != "closed":
        return None
    frozen = await storage.get_record(FROZEN_RECAP, review_id)
    if frozen is None:
        return None
    review = {**review, "id": review.get("id") or review_id}
    team_id = team_of(review)
    listed = await storage.index_get(reviews_index(team_id), review_id)
    kind = str((listed.data if listed else {}).get("kind") or "")
    # Under the lock a status change takes too: none can slip between the read and the write.
    async with storage.lock(_followed_lock(review_id)):
        states = await storage.list_records(ACTION_STATE, review_id)
        ordered = sorted(states, key=lambda s: (s.get("position", 0), str(s.get("gid", ""))))
        ordered = [s for s in ordered if s.get("gid")]
        facts = build(review, frozen, kind=kind, action_gids=[str(s["gid"]) for s in ordered])
        await put(storage, team_id, facts)
        followed = {"review_id": review_id, "actions": [pack(s) for s in ordered]}
        await storage.index_put(
            followed_index(team_id), review_id, float(facts["closed_ms"]), followed
        )
    await rollups.review_closed(storage, team_id, facts)
    await _touch(storage, team_id)
    return facts


def _followed_lock(review_id: str) -> str:
    return f"followed:{review_id}"


async def action_changed(storage: Storage, state: dict[str, Any]) -> None:
    """Keep an action in its team's followed index up to date after a status change
    (called for every change, whatever the route: teams/live.py status_changed)."""
    gid, team_id = str(state.get("gid") or ""), str(state.get("team_id") or "")
    review_id = str(state.get("review_id") or "")
    if not gid or not team_id or not review_id:
        return
    async with storage.lock(_followed_lock(review_id)):
        found = await storage.index_get(followed_index(team_id), review_id)
        if found is None:
            # The review's facts are not kept yet: its close (or the migration) writes
            # every action as it is then, this one included.
            return
        entry = with_action(found.data, review_id, pack(state))
        await storage.index_put(followed_index(team_id), review_id, found.score, entry)
    await rollups.refresh(storage, team_id, found.score)
    await _touch(storage, team_id)


async def put(storage: Storage, team_id: str, facts: dict[str, Any]) -> None:
    """Keep one review's facts: its record, then its entry in the team's facts index."""
    review_id = str(facts["review_id"])
    await storage.put_record(REVIEW_FACTS, review_id, facts, team_id)
    await storage.index_put(facts_index(team_id), review_id, float(facts["closed_ms"]), facts)


async def get(storage: Storage, review_id: str) -> dict[str, Any] | None:
    """One review's facts, or None when it never closed (or closed before they were kept
    and the migration has not reached it)."""
    return await storage.get_record(REVIEW_FACTS, review_id)


async def in_range(
    storage: Storage, team_id: str, since_ms: float, until_ms: float
) -> list[dict[str, Any]]:
    """The facts of a team's reviews closed in [since_ms, until_ms], oldest first."""
    entries = await storage.index_range(facts_index(team_id), low=since_ms, high=until_ms)
    return [e.data for e in entries]


async def followed_in_range(
    storage: Storage, team_id: str, since_ms: float, until_ms: float
) -> list[dict[str, Any]]:
    """The followed-up actions of a team's reviews closed in [since_ms, until_ms]."""
    entries = await storage.index_range(followed_index(team_id), low=since_ms, high=until_ms)
    return [
        unpack(e.member, packed)
        for e in entries
        for packed in e.data.get("actions") or ()
        if isinstance(packed, list)
    ]


async def forget(storage: Storage, team_id: str, review_id: str) -> None:
    """Drop a deleted review's facts (the record is grouped by team: purge_review keeps it)."""
    listed = await storage.index_get(facts_index(team_id), review_id)
    await storage.index_remove(followed_index(team_id), review_id)
    await storage.index_remove(facts_index(team_id), review_id)
    await storage.delete_record(REVIEW_FACTS, review_id)
    if listed is not None:
        await rollups.review_forgotten(storage, team_id, review_id, listed.score)
    await _touch(storage, team_id)
