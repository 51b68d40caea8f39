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

Each month digest has a stamp (a small row, a new token whenever the month is digested
again). A process keeps the months it decoded and their merges per range of whole months
with the stamps they were read under: a period reads the stamps of its months, and decodes
and merges again only what changed since (a month digest of a big team is ~60 KiB of JSON;
two years of them took most of an answer's time).
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
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


def stamps_index(team_id: str) -> str:
    """member "YYYY-MM"; score: the month's first ms; data: {"v": token}, a new token after
    every digest of the month (also when it is dropped)."""
    return f"team/{team_id}/digest-stamps"


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
        await _stamp(storage, team_id, month)


async def _stamp(storage: Storage, team_id: str, month: date) -> None:
    # After the month's digest: a reader that sees the new token reads the new digest.
    token = {"v": secrets.token_hex(8)}
    await storage.index_put(stamps_index(team_id), f"{month:%Y-%m}", ms_of(month), token)


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
    indexes = (days_index, months_index, stamps_index, timeline_index)
    for index in (name(team_id) for name in indexes):
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
        await _stamp(storage, team_id, month)
    return len(facts)


# --- reading ------------------------------------------------------------------------------


Part = tuple[str, Mapping[str, Any]]  # (month "YYYY-MM", digest)


async def read(
    storage: Storage, team_id: str, since: date, until: date, *, rows: int | None
) -> tuple[dict[str, Any], list[Part], list[dict[str, Any]]]:
    """The merged digest of [since, until] (whole UTC days), the digests it was merged from
    for the trend (whole months with only their categories), and the timeline rows of the
    period (the latest ``rows`` of them, oldest first; None: all)."""
    first_whole = since if since.day == 1 else _next_month(since)
    after_whole = _next_month(until) if until == _last_day(until) else until.replace(day=1)
    low, high = ms_of(since), ms_of(until) + DAY_MS - 1
    timeline = storage.index_range(
        timeline_index(team_id), low=low, high=high, limit=rows, reverse=rows is not None
    )
    if first_whole < after_whole:
        # Whole months in the middle; the days before and after them at the edges.
        day = timedelta(days=1)
        before, months, after, shown = await asyncio.gather(
            _days(storage, team_id, since, first_whole - day),
            _whole_months(storage, team_id, first_whole, after_whole),
            _days(storage, team_id, after_whole, until),
            timeline,
        )
        merged, month_parts = months
    else:
        before, shown = await asyncio.gather(_days(storage, team_id, since, until), timeline)
        after, merged, month_parts = [], None, []
    edges = [(e.member[:7], e.data) for e in before], [(e.member[:7], e.data) for e in after]
    in_order = [d for _, d in edges[0]] + ([merged] if merged else []) + [d for _, d in edges[1]]
    listed = [e.data for e in shown]
    if rows is not None:
        listed.reverse()
    return rollup.merge(in_order), [*edges[0], *month_parts, *edges[1]], listed


# Per process, each with the stamp(s) it was read under: decoded month digests by (team,
# month), merges of whole-month ranges by (team, first month, month after), and the decoded
# day digests of a month by (team, month) for the edges of periods.
MONTHS_KEPT, RANGES_KEPT, MONTH_DAYS_KEPT = 1_000, 16, 24
_month_days: OrderedDict[tuple[str, str], tuple[str, list[IndexEntry]]] = OrderedDict()
_months: OrderedDict[tuple[str, str], tuple[str, Mapping[str, Any]]] = OrderedDict()
_ranges: OrderedDict[tuple[str, date, date], tuple[tuple[tuple[str, str], ...], Any]] = (
    OrderedDict()
)


async def _days(storage: Storage, team_id: str, first: date, last: date) -> list[IndexEntry]:
    """The day digests of [first, last], read whole months at a time and kept per month
    while its stamp stays (the stamp moves whenever any of its days is digested again)."""
    if first > last:
        return []
    months = [first.replace(day=1)]
    while months[-1] < last.replace(day=1):
        months.append(_next_month(months[-1]))
    stamps = await storage.index_range(
        stamps_index(team_id), low=ms_of(months[0]), high=ms_of(months[-1])
    )
    tokens = {e.member: str(e.data.get("v") or "") for e in stamps}
    low, high = ms_of(first), ms_of(last) + DAY_MS - 1
    found: list[IndexEntry] = []
    for month in months:
        name, hit = f"{month:%Y-%m}", _month_days.get((team_id, f"{month:%Y-%m}"))
        token = tokens.get(name, "")
        if token and hit is not None and hit[0] == token:
            entries = hit[1]
        else:
            entries = await storage.index_range(
                days_index(team_id), low=ms_of(month), high=ms_of(_next_month(month)) - 1
            )
            if token:
                _keep(_month_days, (team_id, name), (token, entries), MONTH_DAYS_KEPT)
        found += [e for e in entries if low <= e.score <= high]
    return found


async def _whole_months(
    storage: Storage, team_id: str, first: date, after: date
) -> tuple[dict[str, Any] | None, list[Part]]:
    """The merge of the month digests in [first, after) and those months' categories."""
    stamps = await storage.index_range(
        stamps_index(team_id), low=ms_of(first), high=ms_of(after) - 1
    )
    tokens = tuple((e.member, str(e.data.get("v") or "")) for e in stamps)
    key = (team_id, first, after)
    kept = _ranges.get(key)
    if kept is not None and kept[0] == tokens:
        _ranges.move_to_end(key)
        found: tuple[dict[str, Any] | None, list[Part]] = kept[1]
        return found
    local: dict[str, Mapping[str, Any]] = {}
    for month, token in tokens:
        hit = _months.get((team_id, month))
        if token and hit is not None and hit[0] == token:
            local[month] = hit[1]
    stale = [(m, t) for m, t in tokens if m not in local]
    if stale:
        fetched = await storage.index_get_many(months_index(team_id), [m for m, _ in stale])
        for (month, token), entry in zip(stale, fetched, strict=True):
            local[month] = entry.data if entry is not None else {}
            if token:
                _keep(_months, (team_id, month), (token, local[month]), MONTHS_KEPT)
    digests = [(m, local[m]) for m, _ in tokens]
    found = (
        rollup.sorted_lists(rollup.merge(d for _, d in digests)) if digests else None,
        [(m, {"cat": d.get("cat")}) for m, d in digests],
    )
    if all(t for _, t in tokens):
        _keep(_ranges, key, (tokens, found), RANGES_KEPT)
    return found


def _keep(kept: OrderedDict[Any, Any], key: Any, value: Any, most: int) -> None:
    kept[key] = value
    kept.move_to_end(key)
    while len(kept) > most:
        kept.popitem(last=False)


def _last_day(day: date) -> date:
    return _next_month(day) - timedelta(days=1)
