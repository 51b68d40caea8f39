"""Actions after their review closed: their stored state and the indexes that list them.

Each action of a closed review gets an ACTION_STATE record (grouped by its review) and
sits in exactly one status index of its team, and in its owner's person index when the
owner is a person of the directory. Lists across reviews read only those indexes (and a
person's own records), never a review's docs. Stateless: build one wherever needed.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, Protocol

from debrief.followup import action_status as st
from debrief.followup.people import name_key
from debrief.meeting.errors import DomainError, NotFound, ValidationError
from debrief.storage.base import IndexEntry, Storage
from debrief.teams.keys import (
    ACTION_STATE,
    ACTION_STATUSES,
    PENDING_STATUSES,
    PERSON,
    PERSON_NAME,
    SETTLED_STATUSES,
    UNDONE_STATUSES,
    action_gid,
    day_score,
    person_index,
    person_status_index,
    status_index,
)

log = logging.getLogger(__name__)

VIEWS = ("pending", "overdue", "all", *ACTION_STATUSES)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_PERSON_ACTIONS = 2_000  # what one personal page lists at most
SETTLED_SHOWN = 20  # a personal page shows the latest settled actions, with a count


class People(Protocol):
    """The team directory (teams/service.py): finds a person by name, adding them."""

    async def find_or_add_person(self, team_id: str, name: str) -> dict[str, Any]: ...


def review_url(review_id: str) -> str:
    """Where the web app shows a closed review's recap (with each action's status)."""
    return f"/r/{review_id}/recap"


def overdue_high(today: date) -> float:
    """The highest due score that is overdue on ``today``: due yesterday or earlier."""
    return float((today - timedelta(days=1)).toordinal())


def row(data: dict[str, Any], today: date) -> dict[str, Any]:
    """An index summary as a list shows it: with its review's page and whether overdue."""
    return {
        **data,
        "review_url": review_url(str(data.get("review_id") or "")),
        "overdue": st.is_overdue(data, today),
    }


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _lock(gid: str) -> str:
    return f"action-state:{gid}"


class ActionTracker:
    def __init__(self, storage: Storage, people: People | None = None) -> None:
        self.storage = storage
        # Without a directory, owners resolve only to people already in it.
        self.people = people

    # --- closing ----------------------------------------------------------------------

    async def index_closed_review(
        self, review: dict[str, Any], actions: Iterable[dict[str, Any]], team_id: str
    ) -> list[dict[str, Any]]:
        """Create the state of every action of a review that closed, and index it.

        Safe to run again (a retried close, the migration of older reviews): an action
        that already has a state keeps its status and history; its index entries are
        put back where its state says, whatever a crash left behind.
        """
        review_id = str(review["id"])
        created = now_ms()
        states = []
        for position, action in enumerate(actions):
            action_id = str(action.get("id") or "")
            if not action_id:
                continue
            gid = action_gid(review_id, action_id)
            async with self.storage.lock(_lock(gid)):
                state = await self.storage.get_record(ACTION_STATE, gid)
                if state is None:
                    owner_id = await self._owner_of(team_id, action)
                    state = st.new_state(
                        review=review,
                        team_id=team_id,
                        gid=gid,
                        action=action,
                        owner_id=owner_id,
                        now_ms=created,
                    ) | {"position": position}
                    await self.storage.put_record(ACTION_STATE, gid, state, review_id)
                await self._reindex(state)
            states.append(state)
        return states

    async def _owner_of(self, team_id: str, action: dict[str, Any]) -> str:
        """The person id of an action's owner: the owner_id picked in the editor when it
        is a person of this team, else the person of that name (added when missing)."""
        owner_id = str(action.get("owner_id") or "")
        if owner_id:
            person = await self.storage.get_record(PERSON, owner_id)
            if person is not None and person.get("team_id") == team_id:
                return owner_id
        name = " ".join(str(action.get("owner") or "").split())
        if not name:
            return ""
        if self.people is not None:
            try:
                person = await self.people.find_or_add_person(team_id, name)
            except DomainError as exc:  # a name the directory cannot take: stays free text
                log.warning("owner %r of an action is not a person: %s", name, exc.detail)
                return ""
            return str(person.get("id") or "")
        found = await self.storage.get_record(PERSON_NAME, name_key(team_id, name))
        return str((found or {}).get("person_id") or "")

    async def store(self, state: dict[str, Any]) -> None:
        """Write a new action state and its index rows (bulk loads: the bench, imports)."""
        await self.storage.put_record(ACTION_STATE, state["gid"], state, state["review_id"])
        await self._put_entries(state)

    async def forget(self, state: dict[str, Any]) -> None:
        """Take a deleted action out of every index (any status: a row must never outlive
        its action, whatever a crash left behind)."""
        gid, team_id, owner = str(state.get("gid", "")), state["team_id"], state.get("owner_id")
        for status in ACTION_STATUSES:
            await self.storage.index_remove(status_index(team_id, status), gid)
            if isinstance(owner, str) and owner:
                await self.storage.index_remove(person_status_index(owner, status), gid)
        if isinstance(owner, str) and owner:
            await self.storage.index_remove(person_index(owner), gid)

    async def _reindex(self, state: dict[str, Any]) -> None:
        gid, team_id, owner = state["gid"], state["team_id"], state.get("owner_id")
        for status in ACTION_STATUSES:
            if status != state["status"]:
                await self.storage.index_remove(status_index(team_id, status), gid)
                if owner:
                    await self.storage.index_remove(person_status_index(owner, status), gid)
        await self._put_entries(state)

    async def _put_entries(self, state: dict[str, Any]) -> None:
        score, data = day_score(state.get("due") or ""), st.summary(state)
        gid, status, owner = state["gid"], state["status"], state.get("owner_id")
        await self.storage.index_put(status_index(state["team_id"], status), gid, score, data)
        if owner:
            await self.storage.index_put(person_index(owner), gid, score, data)
            await self.storage.index_put(person_status_index(owner, status), gid, score, data)

    # --- changes ----------------------------------------------------------------------

    async def get(self, gid: str) -> dict[str, Any]:
        state = await self.storage.get_record(ACTION_STATE, gid)
        if state is None:
            raise NotFound("there is no followed-up action with this id", error="unknown-action")
        return state

    async def change_status(self, gid: str, actor: st.Actor, change: st.Change) -> dict[str, Any]:
        """Apply a status change (the rules in followup/action_status.py) and move the
        action between its team's status indexes. Returns the new state."""
        async with self.storage.lock(_lock(gid)):
            state = await self.get(gid)
            changed = st.apply(state, actor, change, now_ms())
            await self.storage.put_record(ACTION_STATE, gid, changed, changed["review_id"])
            if state["status"] != changed["status"]:
                await self.storage.index_remove(
                    status_index(state["team_id"], state["status"]), gid
                )
                if state.get("owner_id"):
                    await self.storage.index_remove(
                        person_status_index(state["owner_id"], state["status"]), gid
                    )
            await self._put_entries(changed)
        return changed

    # --- reads ------------------------------------------------------------------------

    async def of_review(self, review_id: str) -> list[dict[str, Any]]:
        """The states of one review's actions, in the recap's order."""
        states = await self.storage.list_records(ACTION_STATE, review_id)
        return sorted(states, key=lambda s: (s.get("position", 0), s.get("gid", "")))

    async def list_team(
        self,
        team_id: str,
        view: str = "pending",
        *,
        person_id: str = "",
        offset: int = 0,
        limit: int = DEFAULT_LIMIT,
        today: date,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a team's actions by due date (undated last), and how many there are.

        ``view``: pending (open, in progress, done), overdue (open or in progress, due
        before today), all, or one status. ``person_id`` narrows to that person's actions.
        """
        if view not in VIEWS:
            raise ValidationError(
                f"unknown view {view!r}; use one of: {', '.join(VIEWS)}",
                error="bad-view",
                field="view",
            )
        offset, limit = max(0, offset), max(1, min(limit, MAX_LIMIT))
        statuses, high = _view(view, today)
        if person_id:
            names = [person_status_index(person_id, s) for s in statuses]
        else:
            names = [status_index(team_id, s) for s in statuses]
        return await self._merged_page(names, high, offset, limit, today)

    async def _merged_page(
        self, names: list[str], high: float, offset: int, limit: int, today: date
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of several indexes read as one list by due date, and its length."""
        total = 0
        for name in names:
            total += await self.storage.index_count(name, high=high)
        if offset >= total:
            return [], total
        parts = [
            await self.storage.index_range(name, high=high, limit=offset + limit) for name in names
        ]
        merged = list(heapq.merge(*parts, key=_order))[offset : offset + limit]
        return [row(e.data, today) for e in merged], total

    async def counts(self, team_id: str, today: date) -> dict[str, Any]:
        """How many of a team's actions are in each status, and how many are overdue."""
        actions = {s: await self.storage.index_count(status_index(team_id, s))
                   for s in ACTION_STATUSES}  # fmt: skip
        overdue = 0
        for status in UNDONE_STATUSES:
            overdue += await self.storage.index_count(
                status_index(team_id, status), high=overdue_high(today)
            )
        return {"actions": actions, "overdue": overdue}

    async def overdue(self, team_id: str, today: date, limit: int = MAX_LIMIT) -> list[dict]:
        page, _ = await self.list_team(team_id, "overdue", limit=limit, today=today)
        return page

    async def list_person(
        self, person_id: str, today: date, settled_offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """A person's page, across reviews, from index rows only: every action that still
        asks something (open, in progress, done), then a page of the settled ones (latest
        due first). Returns the rows and how many settled actions there are in all."""
        pending, _ = await self._merged_page(
            [person_status_index(person_id, s) for s in PENDING_STATUSES],
            float("inf"), 0, MAX_PERSON_ACTIONS, today,
        )  # fmt: skip
        settled_total = 0
        settled: list[IndexEntry] = []
        for status in SETTLED_STATUSES:
            name = person_status_index(person_id, status)
            settled_total += await self.storage.index_count(name)
            settled += await self.storage.index_range(
                name, limit=settled_offset + SETTLED_SHOWN, reverse=True
            )
        settled.sort(key=_order, reverse=True)
        shown = settled[settled_offset : settled_offset + SETTLED_SHOWN]
        return pending + [row(e.data, today) for e in shown], settled_total


def _view(view: str, today: date) -> tuple[tuple[str, ...], float]:
    """The statuses a view lists and the highest due score it takes."""
    if view == "pending":
        return PENDING_STATUSES, float("inf")
    if view == "overdue":
        return UNDONE_STATUSES, overdue_high(today)
    if view == "all":
        return ACTION_STATUSES, float("inf")
    return (view,), float("inf")


def _order(entry: IndexEntry) -> tuple[float, str]:
    return (entry.score, entry.member)
