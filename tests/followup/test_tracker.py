"""The action tracker on each real backend: states and index entries made at close, kept
consistent by status changes and by running the indexing again."""

from __future__ import annotations

from datetime import date
from typing import Any

from debrief.followup import action_status as st
from debrief.storage.base import Storage
from debrief.teams.actions import ActionTracker
from debrief.teams.keys import (
    ACTION_STATE,
    ACTION_STATUSES,
    action_gid,
    person_index,
    status_index,
)
from debrief.teams.service import TeamService

TODAY = date(2025, 4, 10)
TEAM = "t_tracker"
ADMIN = st.Actor("Ada Admin", st.TEAM_ADMIN)


def actions() -> list[dict[str, Any]]:
    return [
        {"id": "a1", "what": "Late fix", "owner": "Priya N", "due": "2025-04-01"},
        {"id": "a2", "what": "Later fix", "owner": " priya n ", "due": "2025-05-01"},
        {"id": "a3", "what": "Undated", "owner": "Omar K", "due": ""},
        {"id": "a4", "what": "Nobody's", "owner": "", "due": "2025-04-20"},
    ]


async def where(storage: Storage, gid: str) -> list[str]:
    """The status indexes that hold ``gid`` (exactly one when consistent)."""
    found = []
    for status in ACTION_STATUSES:
        if await storage.index_get(status_index(TEAM, status), gid) is not None:
            found.append(status)
    return found


async def test_close_indexes_and_changes_move(storage: Storage) -> None:
    teams = TeamService(storage, "secret", 3600)
    tracker = ActionTracker(storage, teams)
    review = {"id": "r_one", "title": "Checkout outage", "team_id": TEAM}
    states = await tracker.index_closed_review(review, actions(), TEAM)
    assert [s["status"] for s in states] == ["open"] * 4
    priya = states[0]["owner_id"]
    assert priya and states[1]["owner_id"] == priya  # one person, typed two ways
    assert states[2]["owner_id"] not in ("", priya) and states[3]["owner_id"] == ""
    for state in states:
        assert await where(storage, state["gid"]) == ["open"]
    mine = await storage.index_range(person_index(priya))
    assert [e.member for e in mine] == [action_gid("r_one", "a1"), action_gid("r_one", "a2")]

    gid = action_gid("r_one", "a1")
    change = st.Change("done", evidence_text="Merged in #812")
    done = await tracker.change_status(gid, st.Actor("Priya N", st.OWNER, priya), change)
    assert await where(storage, gid) == ["done"]
    entry = await storage.index_get(person_index(priya), gid)
    assert entry is not None and entry.data["status"] == "done"
    assert (await storage.get_record(ACTION_STATE, gid)) == done

    # Run again (a retried close, the migration): nothing is reset, nothing doubles, and
    # an entry a crash left in the wrong index is taken out.
    await storage.index_put(status_index(TEAM, "open"), gid, 1.0, {"gid": gid})
    again = await tracker.index_closed_review(review, actions(), TEAM)
    assert again[0]["status"] == "done" and again[0]["history"] == done["history"]
    assert await where(storage, gid) == ["done"]
    assert await storage.index_count(status_index(TEAM, "open")) == 3
    assert len(await tracker.of_review("r_one")) == 4


async def test_lists_merge_statuses_by_due_date(storage: Storage) -> None:
    tracker = ActionTracker(storage, TeamService(storage, "secret", 3600))
    review = {"id": "r_two", "title": "Search latency", "team_id": TEAM}
    states = await tracker.index_closed_review(review, actions(), TEAM)
    gids = [s["gid"] for s in states]
    await tracker.change_status(gids[1], ADMIN, st.Change("in-progress"))
    await tracker.change_status(gids[3], ADMIN, st.Change("done", evidence_url="https://x.io/1"))

    page, total = await tracker.list_team(TEAM, "pending", today=TODAY)
    assert total == 4
    assert [r["gid"] for r in page] == [gids[0], gids[3], gids[1], gids[2]]  # undated last
    assert page[0]["overdue"] is True and page[1]["overdue"] is False
    page, total = await tracker.list_team(TEAM, "pending", offset=1, limit=2, today=TODAY)
    assert [r["gid"] for r in page] == [gids[3], gids[1]] and total == 4
    page, total = await tracker.list_team(TEAM, "overdue", today=TODAY)
    assert [r["gid"] for r in page] == [gids[0]] and total == 1
    # Due today is not overdue yet; the day after, it is.
    page, _ = await tracker.list_team(TEAM, "overdue", today=date(2025, 4, 1))
    assert page == []
    page, _ = await tracker.list_team(TEAM, "overdue", today=date(2025, 5, 2))
    assert [r["gid"] for r in page] == [gids[0], gids[1]]
    page, total = await tracker.list_team(TEAM, "done", today=TODAY)
    assert [r["gid"] for r in page] == [gids[3]]
    priya = states[0]["owner_id"]
    page, total = await tracker.list_team(TEAM, "all", person_id=priya, today=TODAY)
    assert [r["gid"] for r in page] == [gids[0], gids[1]] and total == 2
    counts = await tracker.counts(TEAM, TODAY)
    assert counts == {
        "actions": {"open": 2, "in-progress": 1, "done": 1, "verified": 0, "wont-do": 0},
        "overdue": 1,
    }
    listed, settled = await tracker.list_person(priya, TODAY)
    assert [s["gid"] for s in listed] == [gids[0], gids[1]] and "history" not in listed[0]
    assert settled == 0


async def test_an_owner_id_of_another_team_is_not_trusted(storage: Storage) -> None:
    teams = TeamService(storage, "secret", 3600)
    outsider = await teams.find_or_add_person("t_elsewhere", "Eve Else")
    tracker = ActionTracker(storage, teams)
    review = {"id": "r_three", "title": "Pager storm", "team_id": TEAM}
    item = {"id": "a1", "what": "Fix", "owner": "Eve Else", "owner_id": outsider["id"]}
    [state] = await tracker.index_closed_review(review, [item], TEAM)
    assert state["owner_id"] not in ("", outsider["id"])  # Eve of this team, by name
