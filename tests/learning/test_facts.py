"""The facts of a closed review: built from its frozen recap (the recap builder's own
output), kept at close and by the schema 3 migration, and the followed index of its
actions kept up to date on status changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from debrief.followup.action_status import Actor, Change
from debrief.learning import facts as lf
from debrief.meeting import recap as rc
from debrief.meeting.service import FROZEN_RECAP, REVIEW
from debrief.storage.base import Storage
from debrief.storage.schema import schema_version, set_schema_version
from debrief.storage.sqlite import SQLiteStorage
from debrief.teams import facts_store
from debrief.teams.actions import ActionTracker
from debrief.teams.keys import DEFAULT_TEAM_ID
from debrief.teams.migrate import CURRENT_VERSION, migrate
from debrief.teams.service import TeamService

CLOSED_MS = 1_767_268_800_000  # 2026-01-01T12:00Z
THEMES = [
    {"id": "t1", "title": "Nobody owned the pager", "category": "role-ambiguity",
     "section": "contributing-factors", "votes": 5},
    {"id": "t2", "title": "Runbook was stale", "category": "information-gap",
     "section": "contributing-factors", "votes": None},  # hidden counts: 0
    {"id": "t3", "title": "Deploy tool hid errors", "category": "tooling",
     "section": "contributing-factors", "votes": 2},
    {"id": "t4", "title": "Quick rollback", "category": "", "section": "worked-well",
     "votes": 3},
]  # fmt: skip
EVENTS = [
    {"id": "e1", "time": "2026-01-01T09:20:00Z", "text": "Pager fired again",
     "markers": ["first-signal"]},
    {"id": "e2", "time": "2026-01-01T09:05:00Z", "text": "Error rate alert",
     "markers": ["first-signal"]},  # the earlier one counts
    {"id": "e3", "time": "2026-01-01T09:35:00Z", "text": "On-call looks",
     "markers": ["first-response"]},
    {"id": "e4", "time": "2026-01-01T11:05:00Z", "text": "Escalated to payments",
     "markers": ["escalation-delay", "handoff"]},
    {"id": "e5", "time": "not a time", "text": "Someone noticed", "markers": ["first-signal"]},
    {"id": "e6", "time": "2026-01-01T12:00:00Z", "text": "Fixed", "markers": ["resolved"]},
]  # fmt: skip
ACTIONS = [
    {"what": "Name a pager owner", "owner": "Priya N", "due": "2031-01-10",
     "verify": "Rota shows it", "kind": "documentation-ownership"},
    {"what": "Alert on deploy errors", "owner": "Omar", "due": "2031-02-01",
     "verify": "A test alert fires", "kind": "monitoring"},
]  # fmt: skip


def review(review_id: str = "r_one", **extra: Any) -> dict[str, Any]:
    return {"id": review_id, "title": "Checkout outage", "status": "closed",
            "closed_ms": CLOSED_MS, "team_id": DEFAULT_TEAM_ID, "version": 1,
            "scope": {"event": "Checkout down", "window_start": "2026-01-01T09:00:00Z",
                      "window_end": "2026-01-01T12:00:00Z"}, **extra}  # fmt: skip


def frozen(of: dict[str, Any]) -> dict[str, Any]:
    """A frozen version exactly as closing makes it (meeting/recap.py)."""
    notes = [{"id": "n1", "text": "loose factor", "kind": "contributing-factor",
              "theme_id": None, "votes": 1}]  # fmt: skip
    built = rc.build_recap(of, EVENTS, THEMES, notes, ACTIONS, "", 0)
    return rc.finalize(built, 1, "2026-01-01T12:00:00Z")


def test_facts_from_the_frozen_recap() -> None:
    found = lf.build(review(), frozen(review()), kind="incident", action_gids=["r_one.a1"])
    assert found["review_id"] == "r_one" and found["closed_ms"] == CLOSED_MS
    assert found["kind"] == "incident" and found["actions"] == ["r_one.a1"]
    assert found["window_start"] == "2026-01-01T09:00:00Z"
    # recap order: categories by votes (role-ambiguity 5, tooling 2, information-gap 0);
    # the loose note is no theme; worked-well after
    assert [(t["id"], t["title"], t["category"], t["votes"], t["section"])
            for t in found["themes"]] == [
        ("cf1", "Nobody owned the pager", "role-ambiguity", 5, "contributing-factors"),
        ("cf2", "Deploy tool hid errors", "tooling", 2, "contributing-factors"),
        ("cf3", "Runbook was stale", "information-gap", 0, "contributing-factors"),
        ("ww1", "Quick rollback", "", 3, "worked-well"),
    ]  # fmt: skip
    at = lf.time_ms
    assert found["markers"] == {
        "first_signal_ms": at("2026-01-01T09:05:00Z"),
        "first_response_ms": at("2026-01-01T09:35:00Z"),
        "escalation_ms": at("2026-01-01T11:05:00Z"),
    }


def test_missing_markers_are_none() -> None:
    assert lf.markers([{"time": "2026-01-01T09:05:00Z", "markers": ["first-response"]},
                       {"time": "", "markers": ["first-signal"]}]) == {
        "first_signal_ms": None, "first_response_ms": lf.time_ms("2026-01-01T09:05:00Z"),
        "escalation_ms": None}  # fmt: skip
    assert lf.themes({}) == [] and lf.markers([]) == dict.fromkeys(lf.MARKERS)


def test_done_time_is_the_last_move_to_done() -> None:
    history = [{"to": "done", "at_ms": 10}, {"to": "in-progress", "at_ms": 20},
               {"to": "done", "at_ms": 30}, {"to": "verified", "at_ms": 40}]  # fmt: skip
    assert lf.done_ms({"status": "verified", "history": history}) == 30
    assert lf.done_ms({"status": "in-progress", "history": history[:2]}) is None
    row = lf.followed_row(
        {"gid": "r.a", "review_id": "r", "status": "done", "history": history[:1], "due": ""}
    )
    assert row["done_ms"] == 10 and row["status"] == "done" and row["owner_id"] == ""
    assert row["review_id"] == "r" and row["gid"] == "r.a"


def test_a_packed_action_replaces_its_old_self() -> None:
    first, second = lf.pack({"gid": "r.a", "status": "open"}), lf.pack({"gid": "r.b"})
    entry = lf.with_action(None, "r", first)
    entry = lf.with_action(entry, "r", second)
    moved = lf.pack({"gid": "r.a", "status": "wont-do"})
    entry = lf.with_action(entry, "r", moved)
    assert entry == {"review_id": "r", "actions": [moved, second]}


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = SQLiteStorage(tmp_path / "debrief.sqlite3")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


async def closed_review(storage: Storage, teams: TeamService, review_id: str) -> list[str]:
    """A closed review as closing leaves it: record, frozen version, action states."""
    of = review(review_id)
    await storage.put_record(REVIEW, review_id, of, review_id)
    await storage.put_record(FROZEN_RECAP, review_id, frozen(of), review_id)
    await teams.archive.review_changed(of, "incident", len(ACTIONS))
    actions = [{**a, "id": f"a{n}", "created_ms": n} for n, a in enumerate(ACTIONS, 1)]
    states = await ActionTracker(storage, teams).index_closed_review(of, actions, DEFAULT_TEAM_ID)
    return [s["gid"] for s in states]


async def test_kept_at_close_and_followed_on_change(storage: Storage) -> None:
    teams = TeamService(storage, "test-secret", 3600)
    await teams.ensure_default_team()
    gids = await closed_review(storage, teams, "r_one")
    kept = await facts_store.record_closed(storage, "r_one")
    assert kept is not None and kept["actions"] == gids and kept["kind"] == "incident"
    assert await facts_store.get(storage, "r_one") == kept
    day = 86_400_000
    assert await facts_store.in_range(storage, DEFAULT_TEAM_ID, CLOSED_MS, CLOSED_MS) == [kept]
    assert await facts_store.in_range(storage, DEFAULT_TEAM_ID, 0, CLOSED_MS - 1) == []
    rows = await facts_store.followed_in_range(storage, DEFAULT_TEAM_ID, 0, CLOSED_MS + day)
    assert [(r["gid"], r["status"]) for r in rows] == [(g, "open") for g in gids]

    # a status change (any route ends in live.status_changed, which calls this)
    state = await ActionTracker(storage, teams).change_status(
        gids[0], Actor("Priya N", "owner"), Change("done", evidence_text="Rota updated")
    )
    await facts_store.action_changed(storage, state)
    rows = await facts_store.followed_in_range(storage, DEFAULT_TEAM_ID, 0, CLOSED_MS + day)
    done = next(r for r in rows if r["gid"] == gids[0])
    assert done["status"] == "done" and done["done_ms"] == state["history"][-1]["at_ms"]

    # an open review has no facts
    await storage.put_record(REVIEW, "r_open", {"id": "r_open", "status": "live"}, "r_open")
    assert await facts_store.record_closed(storage, "r_open") is None

    await facts_store.forget(storage, DEFAULT_TEAM_ID, "r_one")
    assert await facts_store.get(storage, "r_one") is None
    assert await facts_store.followed_in_range(storage, DEFAULT_TEAM_ID, 0, CLOSED_MS + day) == []


async def test_migration_to_3_keeps_facts_of_reviews_closed_before(storage: Storage) -> None:
    teams = TeamService(storage, "test-secret", 3600)
    await teams.ensure_default_team()
    gids = await closed_review(storage, teams, "r_old")
    await set_schema_version(storage, 2)
    assert await migrate(storage, teams) == CURRENT_VERSION
    assert await schema_version(storage) == CURRENT_VERSION
    kept = await facts_store.get(storage, "r_old")
    assert kept is not None and kept["actions"] == gids and len(kept["themes"]) == 4
    before = await facts_store.in_range(storage, DEFAULT_TEAM_ID, 0, float("inf"))
    # run again (a process that died before recording the version): nothing changes
    await set_schema_version(storage, 2)
    assert await migrate(storage, teams) == CURRENT_VERSION
    assert await facts_store.in_range(storage, DEFAULT_TEAM_ID, 0, float("inf")) == before
    assert len(await facts_store.followed_in_range(storage, DEFAULT_TEAM_ID, 0, 1e15)) == 2
