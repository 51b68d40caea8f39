"""Calendar feeds: a team's (secret URL, rotated by its admin) and a person's (their
personal link). Each lists the due dates of pending actions and the scheduled reviews.

A team feed's secret is stored only as its SHA-256 (record "team-feed", grouped by the
team), like API tokens: the URL is shown once, when it is made. Reading a feed touches
indexes and a bounded number of review records, never a review's docs.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from debrief.delivery import ics
from debrief.meeting.service import REVIEW
from debrief.storage.base import Storage
from debrief.teams.keys import (
    PENDING_STATUSES,
    person_index,
    review_status_index,
    status_index,
)

TEAM_FEED = "team-feed"  # id: sha256 of the feed secret -> {team_id, created_ms}
MAX_FEED_ACTIONS = 2_000  # per status (team) or per person
MAX_FEED_REVIEWS = 200  # per review status
REVIEW_STATUSES = ("scheduled", "live")  # live: the event stays while the meeting runs


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- the team feed's secret -----------------------------------------------------------


async def rotate_team_feed(storage: Storage, team_id: str) -> str:
    """A new secret for the team's feed; the old URL stops working. Returns the secret."""
    async with storage.lock(f"team-feed:{team_id}"):
        for old in await storage.list_records(TEAM_FEED, team_id):
            await storage.delete_record(TEAM_FEED, str(old["id"]))
        secret = secrets.token_urlsafe(24)
        key = _digest(secret)
        record = {"id": key, "team_id": team_id, "created_ms": now_ms()}
        await storage.put_record(TEAM_FEED, key, record, team_id)
    return secret


async def stop_team_feed(storage: Storage, team_id: str) -> bool:
    """Turn the team's feed off; False when it had none."""
    async with storage.lock(f"team-feed:{team_id}"):
        found = await storage.list_records(TEAM_FEED, team_id)
        for old in found:
            await storage.delete_record(TEAM_FEED, str(old["id"]))
    return bool(found)


async def team_feed_state(storage: Storage, team_id: str) -> dict[str, Any]:
    found = await storage.list_records(TEAM_FEED, team_id)
    if not found:
        return {"active": False, "created_ms": None}
    return {"active": True, "created_ms": max(int(r.get("created_ms") or 0) for r in found)}


async def team_of_feed(storage: Storage, secret: str) -> str | None:
    """The team whose feed this secret opens, or None."""
    if not 20 <= len(secret) <= 100:
        return None
    record = await storage.get_record(TEAM_FEED, _digest(secret))
    return str(record["team_id"]) if record is not None else None


# --- what a feed lists ----------------------------------------------------------------


async def _team_reviews(storage: Storage, team_id: str) -> list[dict[str, Any]]:
    """The team's scheduled and live reviews (their records: the schedule is there)."""
    reviews = []
    for status in REVIEW_STATUSES:
        rows = await storage.index_range(
            review_status_index(team_id, status), limit=MAX_FEED_REVIEWS
        )
        for row in rows:
            review = await storage.get_record(REVIEW, row.member)
            if review is not None and ics.schedule_of(review) is not None:
                reviews.append(review)
    return reviews


def _present(events: Iterable[Any]) -> list[Any]:
    return [e for e in events if e is not None]


def _attends(person_id: str, review: Mapping[str, Any]) -> bool:
    attendees = review.get("attendees")
    return isinstance(attendees, list) and person_id in attendees


async def team_calendar(storage: Storage, team_id: str, team_name: str, base_url: str) -> str:
    """The team's feed: every pending action with a due date, every scheduled review."""
    actions: list[Mapping[str, Any]] = []
    for status in PENDING_STATUSES:
        rows = await storage.index_range(status_index(team_id, status), limit=MAX_FEED_ACTIONS)
        actions += [row.data for row in rows]
    events = [ics.review_event(r, base_url) for r in await _team_reviews(storage, team_id)]
    events += [ics.due_event(a, base_url) for a in actions]
    return ics.feed_ics(f"{team_name} (Debrief)", _present(events))


async def person_calendar(storage: Storage, person: Mapping[str, Any], base_url: str) -> str:
    """A person's feed: their pending actions with a due date, and the scheduled reviews
    of their team they are an attendee of."""
    person_id, team_id = str(person.get("id") or ""), str(person.get("team_id") or "")
    rows = await storage.index_range(person_index(person_id), limit=MAX_FEED_ACTIONS)
    actions = [row.data for row in rows if row.data.get("status") in PENDING_STATUSES]
    reviews = [r for r in await _team_reviews(storage, team_id) if _attends(person_id, r)]
    events = [ics.review_event(r, base_url) for r in reviews]
    events += [ics.due_event(a, base_url) for a in actions]
    name = str(person.get("name") or "My actions")
    return ics.feed_ics(f"{name} (Debrief)", _present(events))
