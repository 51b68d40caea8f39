"""The time-based events: a scan every tick, on every process, reading only indexes.

- due soon / overdue: each team's status indexes of undone actions (open, in progress),
  by due date: due within DEBRIEF_DUE_SOON_DAYS, and past due (looking back at most
  OVERDUE_LOOKBACK_DAYS, so a big backlog is not re-read every minute; one reminder per
  action and due date was sent when it became overdue).
- starting soon: the ``schedule/reviews`` index (delivery/events.py keeps it) for
  starts within DEBRIEF_START_SOON_MIN minutes.
- the nudge: the ``schedule/unscheduled`` index of draft reviews without a date, by
  their incident's end, for incident reviews DEBRIEF_NUDGE_DAYS past it.
- the weekly digest: on the first scan of each ISO week's digest day (DEBRIEF_DIGEST_DAY,
  1 = Monday) that finds owned open actions in a team; a mark record then keeps later
  scans that week from re-reading them (an owner who gets a first action later that day
  waits for next week: the action-assigned mail told them already).

Every process runs it: a delivery's id comes from its dedup key, so the second process
to queue a reminder finds it queued and adds nothing. Nothing is kept in memory between
ticks, so a restart just scans again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, date, datetime
from typing import Any

from debrief.delivery import events as ev
from debrief.meeting.service import REVIEW
from debrief.storage.base import Storage
from debrief.teams.keys import (
    TEAM,
    UNDONE_STATUSES,
    reviews_index,
    status_index,
    team_of,
)

log = logging.getLogger(__name__)

OVERDUE_LOOKBACK_DAYS = 14
SCAN_LIMIT = 2_000  # index rows per list per tick; the rest waits for the next tick
MARK = "delivery-mark"  # id "digest:<team>:<week>": that week's digest was queued
DAY_MS = 86_400_000


def digest_day(svc: Any) -> int:
    """ISO weekday of the digest (settings.digest_day, DEBRIEF_DIGEST_DAY); 0 turns the
    digest off; Monday for anything else out of 1..7."""
    day = getattr(svc.settings, "digest_day", 1)
    return day if isinstance(day, int) and 0 <= day <= 7 else 1


async def tick(svc: Any, now: datetime) -> None:
    """One scan. Each part is on its own: one failing does not stop the others."""
    storage: Storage = svc.storage
    today = now.astimezone(UTC).date()
    async for team_id, _ in storage.all_records(TEAM):
        for part in (scan_actions(svc, team_id, today), digests(svc, team_id, today)):
            try:
                await part
            except Exception:
                log.exception("scheduler: team %s could not be scanned", team_id)
    for part in (scan_starting(svc, now), scan_nudges(svc, now)):
        try:
            await part
        except Exception:
            log.exception("scheduler: a scan failed")


async def scan_actions(svc: Any, team_id: str, today: date) -> None:
    settings, storage = svc.settings, svc.storage
    first = today.toordinal()
    soon_days = int(getattr(settings, "due_soon_days", 3))
    for status in UNDONE_STATUSES:
        index = status_index(team_id, status)
        for entry in await storage.index_range(index, low=first, high=first + soon_days,
                                               limit=SCAN_LIMIT):  # fmt: skip
            if entry.data.get("due"):
                await ev.action_due_soon(svc, team_id, dict(entry.data), today)
        for entry in await storage.index_range(index, low=first - OVERDUE_LOOKBACK_DAYS,
                                               high=first - 1, limit=SCAN_LIMIT):  # fmt: skip
            if entry.data.get("due"):
                await ev.action_overdue(svc, team_id, dict(entry.data), today)


async def digests(svc: Any, team_id: str, today: date) -> None:
    if today.isoweekday() != digest_day(svc):
        return
    storage: Storage = svc.storage
    year, week, _ = today.isocalendar()
    mark = f"digest:{team_id}:{year}-W{week:02d}"
    if await storage.get_record(MARK, mark) is not None:
        return
    owned: dict[str, list[dict[str, Any]]] = {}
    for status in UNDONE_STATUSES:
        for entry in await storage.index_range(status_index(team_id, status), limit=SCAN_LIMIT):
            owner = entry.data.get("owner_id")
            if owner:
                owned.setdefault(str(owner), []).append(dict(entry.data))
    for person_id, actions in owned.items():
        actions.sort(key=lambda a: (str(a.get("due") or "9999"), str(a.get("gid"))))
        await ev.weekly_digest(svc, team_id, person_id, actions, today)
    if owned:  # a team with nothing open yet is looked at again at the next tick
        await storage.put_record(MARK, mark, {"at": today.isoformat()}, team_id)


async def scan_starting(svc: Any, now: datetime) -> None:
    storage: Storage = svc.storage
    now_ms = now.timestamp() * 1000
    ahead = int(getattr(svc.settings, "start_soon_min", 60)) * 60_000
    for entry in await storage.index_range(ev.SCHEDULE_INDEX, low=now_ms - 60_000,
                                           high=now_ms + ahead, limit=SCAN_LIMIT):  # fmt: skip
        review = await storage.get_record(REVIEW, entry.member)
        if review is None or review.get("status") not in ("draft", "scheduled"):
            continue
        if ev.starts_ms(review) == int(entry.score):  # the index may lag a reschedule
            await ev.review_starting(svc, review, now)
    # starts long gone: nothing will be said about them any more
    for entry in await storage.index_range(ev.SCHEDULE_INDEX, high=now_ms - DAY_MS,
                                           limit=SCAN_LIMIT):  # fmt: skip
        await storage.index_remove(ev.SCHEDULE_INDEX, entry.member)


async def scan_nudges(svc: Any, now: datetime) -> None:
    storage: Storage = svc.storage
    days = int(getattr(svc.settings, "nudge_days", 5))
    high = now.timestamp() * 1000 - days * DAY_MS
    for entry in await storage.index_range(ev.NUDGE_INDEX, high=high, limit=SCAN_LIMIT):
        review = await storage.get_record(REVIEW, entry.member)
        if review is not None and await is_unscheduled_incident(storage, review):
            since = (now.timestamp() * 1000 - entry.score) // DAY_MS
            await ev.review_nudge(svc, review, int(since))
        await storage.index_remove(ev.NUDGE_INDEX, entry.member)


async def is_unscheduled_incident(storage: Storage, review: dict[str, Any]) -> bool:
    if review.get("status") != "draft" or ev.starts_ms(review) is not None:
        return False
    listed = await storage.index_get(reviews_index(team_of(review)), str(review["id"]))
    kind = (listed.data.get("kind") if listed else "") or "incident"
    return kind == "incident"


class Scheduler:
    """Runs ``tick`` every DEBRIEF_SCHEDULER_TICK_S seconds (started by the app lifespan)."""

    def __init__(self, svc: Any) -> None:
        self.svc = svc
        self.every_s = max(0.05, float(getattr(svc.settings, "scheduler_tick_s", 60.0)))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="delivery-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await tick(self.svc, datetime.now(UTC))
            except Exception:
                log.exception("scheduler: a tick failed; trying again next tick")
            await asyncio.sleep(self.every_s)
