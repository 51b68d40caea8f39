"""Digests of a team's closed reviews kept beside their facts: one per UTC day and one per
UTC month (learning/rollup.py), and each review's timeline row. The insights of a period
read its whole months' digests and its edge days' ones (at most ~100 rows for any period),
never every review of it.

Kept by facts_store after every write that changes what insights read: a review's facts
at close, an action's status, a review deleted. The review's day is digested again from
the facts and followed indexes, then its month from its days, under a lock per team and
month; each refresh reads after the write it follows, so the last one to run has seen
every write. A refresh that did not happen (a process killed in between) is made good by
the next change of that day, and ``rebuild`` (schema 4, teams/migrate.py) builds every
digest of a team from its facts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from debrief.learning import rollup
from debrief.learning.facts import facts_index, followed_index, unpack
from debrief.storage.base import IndexEntry, Storage

DAY_MS = 86_400_000


def days_index(team_id: str) -> str:
    """member "YYYY-MM-DD"; score: the day's first ms; data: the day's digest."""
    return f"team/{team_id}/digest-days"


def months_index(team_id: str) -> str:
    """member "YYYY-MM"; score: the month's first ms; data: the month's digest."""
    return f"team/{team_id}/digest-months"


def timeline_index(team_id: str) -> str:
    """member: review id; score: closed_ms; data: rollup.timeline_row (reviews with one)."""
    return f"team/{team_id}/timeline"


def day_of(ms: float) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def ms_of(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


# --- writing ------------------------------------------------------------------------------


async def review_closed(storage: Storage, team_id: str, facts: Mapping[str, Any]) -> None:
    """A review's facts were kept: its timeline row, then its day's and month's digests."""
    closed_ms = float(facts.get("closed_ms") or 0)
    row = rollup.timeline_row(facts)
    if row is not None:
        await storage.index_put(timeline_index(team_id), str(facts["review_id"]), closed_ms, row)
    await refresh(storage, team_id, closed_ms)


async def review_forgotten(
    storage: Storage, team_id: str, review_id: str, closed_ms: float
) -> None:
    """A review's facts were dropped (after the drop: the day is digested without it)."""
    await storage.index_remove(timeline_index(team_id), review_id)
    await refresh(storage, team_id, closed_ms)


async def refresh(storage: Storage, team_id: str, closed_ms: float) -> None:
    """Digest again the day of ``closed_ms``, then its month."""
    day = day_of(closed_ms)
    month = day.replace(day=1)
    async with storage.lock(f"digest:{team_id}:{month:%Y-%m}"):
        low = ms_of(day)
        facts, followed = await asyncio.gather(
            storage.index_range(facts_index(team_id), low=low, high=low + DAY_MS - 1),
            storage.index_range(followed_index(team_id), low=low, high=low + DAY_MS - 1),
        )
        await _put_or_drop(storage, days_index(team_id), day.isoformat(), low,
                           _digest(facts, followed))  # fmt: skip
        first, last = ms_of(month), ms_of(_next_month(month)) - 1
        days = await storage.index_range(days_index(team_id), low=first, high=last)
        merged = rollup.merge(e.data for e in days)
        await _put_or_drop(storage, months_index(team_id), f"{month:%Y-%m}", first, merged)


def _digest(facts: list[IndexEntry], followed: list[IndexEntry]) -> dict[str, Any]:
    actions = [
        unpack(e.member, packed)
        for e in followed
        for packed in e.data.get("actions") or ()
        if isinstance(packed, list)
    ]
    # Due dates already past now stay past: kept as one count (see learning/rollup.py).
    today = datetime.now(UTC).date().isoformat()
    return rollup.digest((e.data for e in facts), actions, past_before=today)


async def _put_or_drop(
    storage: Storage, index: str, member: str, score: float, digest: dict[str, Any]
) -> None:
    if digest["reviews"]:
        await storage.index_put(index, member, score, digest)
    else:
        await storage.index_remove(index, member)


async def rebuild(storage: Storage, team_id: str) -> int:
    """Every digest and timeline row of a team from its facts (the old ones dropped);
    returns how many reviews were digested."""
    facts, followed = await asyncio.gather(
        storage.index_range(facts_index(team_id)), storage.index_range(followed_index(team_id))
    )
    for index in (days_index(team_id), months_index(team_id), timeline_index(team_id)):
        await storage.index_drop(index)
    by_day: dict[date, tuple[list[IndexEntry], list[IndexEntry]]] = {}
    for entry in facts:
        by_day.setdefault(day_of(entry.score), ([], []))[0].append(entry)
        row = rollup.timeline_row(entry.data)
        if row is not None:
            await storage.index_put(timeline_index(team_id), entry.member, entry.score, row)
    for entry in followed:
        by_day.setdefault(day_of(entry.score), ([], []))[1].append(entry)
    by_month: dict[date, list[dict[str, Any]]] = {}
    for day, (day_facts, day_followed) in sorted(by_day.items()):
        digest = _digest(day_facts, day_followed)
        by_month.setdefault(day.replace(day=1), []).append(digest)
        await _put_or_drop(storage, days_index(team_id), day.isoformat(), ms_of(day), digest)
    for month, digests in by_month.items():
        await _put_or_drop(storage, months_index(team_id), f"{month:%Y-%m}", ms_of(month),
                           rollup.merge(digests))  # fmt: skip
    return len(facts)


# --- reading ------------------------------------------------------------------------------


async def read(
    storage: Storage, team_id: str, since: date, until: date, *, rows: int | None
) -> tuple[list[tuple[str, dict[str, Any]]], list[dict[str, Any]]]:
    """The digests of [since, until] (whole UTC days), each with its month, and the
    timeline rows of the period (the latest ``rows`` of them, oldest first; None: all)."""
    first_whole = since if since.day == 1 else _next_month(since)
    after_whole = _next_month(until).replace(day=1) if until == _last_day(until) else (
        until.replace(day=1))  # fmt: skip
    low, high = ms_of(since), ms_of(until) + DAY_MS - 1
    reads = []
    if first_whole < after_whole:
        # Whole months in the middle; the days before and after them at the edges.
        reads.append(storage.index_range(
            months_index(team_id), low=ms_of(first_whole), high=ms_of(after_whole) - 1))
        reads.append(storage.index_range(
            days_index(team_id), low=low, high=ms_of(first_whole) - 1))
        reads.append(storage.index_range(
            days_index(team_id), low=ms_of(after_whole), high=high))  # fmt: skip
    else:
        reads.append(storage.index_range(days_index(team_id), low=low, high=high))
    timeline = storage.index_range(
        timeline_index(team_id), low=low, high=high, limit=rows, reverse=rows is not None
    )
    *digests, shown = await asyncio.gather(*reads, timeline)
    entries = sorted((e for found in digests for e in found), key=lambda e: e.score)
    parts = [(e.member[:7], e.data) for e in entries]
    listed = [e.data for e in shown]
    if rows is not None:
        listed.reverse()
    return parts, listed


def _last_day(day: date) -> date:
    return _next_month(day) - timedelta(days=1)
