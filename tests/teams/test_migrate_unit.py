"""The schema 1 -> 2 migration on a real SQLite storage: v1-shaped records in, teams,
indexes and followed-up actions out; a second run changes nothing."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map

from debrief.auth.roles import DocName, doc_key
from debrief.followup.action_status import Actor, Change
from debrief.meeting.service import FROZEN_RECAP, REVIEW
from debrief.storage.base import Storage
from debrief.storage.schema import schema_version, set_schema_version
from debrief.storage.sqlite import SQLiteStorage
from debrief.teams.actions import ActionTracker
from debrief.teams.keys import (
    ACTION_STATE,
    DEFAULT_TEAM_ID,
    PERSON,
    TEAM,
    people_index,
    person_index,
    review_status_index,
    reviews_index,
    status_index,
)
from debrief.teams.migrate import migrate
from debrief.teams.service import TeamService
from support.scaleout import SHARED_REDIS, drop_prefix

ACTIONS = {
    "a1": {"what": "Add a deploy approver", "owner": "Priya N", "due": "2031-01-10",
           "verify": "Two deploys show it", "kind": "preventive-control", "created_ms": 1},
    "a2": {"what": "Alert on disk usage", "owner": "  priya   n ", "due": "2031-02-01",
           "verify": "A test alert fires", "kind": "detection", "created_ms": 2},
    "a3": {"what": "Write the runbook", "owner": "Omar", "due": "",
           "verify": "It is linked from the alert", "kind": "process", "created_ms": 3},
}  # fmt: skip


Opener = Callable[[], Awaitable[Storage]]


@pytest.fixture(params=["sqlite", "redis"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens another connection to one store, as another process would."""
    prefix = f"debrief-test-{secrets.token_hex(4)}:"
    opened: list[Storage] = []

    async def opener() -> Storage:
        store: Storage
        if request.param == "redis":
            from debrief.storage.redis import RedisStorage

            store = RedisStorage(SHARED_REDIS, prefix=prefix)
        else:
            store = SQLiteStorage(tmp_path / "debrief.sqlite3")
        await store.open()
        opened.append(store)
        return store

    try:
        yield opener
    finally:
        for store in opened:
            await store.close()
        if request.param == "redis":
            drop_prefix(SHARED_REDIS, prefix)


@pytest.fixture
async def storage(open_store: Opener) -> Storage:
    return await open_store()


async def write_doc(storage: Storage, key: str, fill: Any) -> None:
    doc: Doc = Doc()
    fill(doc)
    await storage.append_update(key, doc.get_update())


async def v1_data(storage: Storage) -> None:
    """What the release before teams stored: reviews without a team, one of them closed
    with its frozen recap and its (read-only) recap doc, one live using the launch agenda."""
    closed = {"id": "r_closed", "title": "Checkout outage", "status": "closed",
              "created_ms": 1_700_000_000_000, "closed_ms": 1_700_000_500_000,
              "scope": {"event": "Card payments failed", "question": "Why no failover?"},
              "settings": {}, "version": {"number": 1}}  # fmt: skip
    live = {"id": "r_live", "title": "Launch of search", "status": "live",
            "created_ms": 1_700_100_000_000, "settings": {}}  # fmt: skip
    await storage.put_record(REVIEW, "r_closed", closed, "r_closed")
    await storage.put_record(REVIEW, "r_live", live, "r_live")
    frozen = {"title": "Checkout outage", "actions": [
        {k: a[k] for k in ("what", "owner", "due", "verify", "kind")} for a in ACTIONS.values()
    ]}  # fmt: skip
    await storage.put_record(FROZEN_RECAP, "r_closed", frozen, "r_closed")

    def recap(doc: Doc) -> None:
        actions = doc.get("actions", type=Map)
        for key, fields in ACTIONS.items():
            actions[key] = Map(fields)

    def launch(doc: Doc) -> None:
        doc.get("meeting", type=Map)["template"] = "launch"

    await write_doc(storage, doc_key("r_closed", DocName.RECAP), recap)
    await write_doc(storage, doc_key("r_live", DocName.ROOM), launch)


async def snapshot(storage: Storage) -> dict[str, Any]:
    """Everything the migration writes, to compare one run with the next."""
    team = DEFAULT_TEAM_ID
    return {
        "reviews": [(e.member, e.data) for e in await storage.index_range(reviews_index(team))],
        "open": [(e.member, e.data) for e in await storage.index_range(status_index(team, "open"))],
        "wont": [e.member for e in await storage.index_range(status_index(team, "wont-do"))],
        "people": [(e.member, e.data) for e in await storage.index_range(people_index(team))],
        "states": sorted(
            (s["gid"], s["status"], s["owner_id"])
            for s in await storage.list_records(ACTION_STATE, "r_closed")
        ),
        "persons": sorted(p["id"] for p in await storage.list_records(PERSON, team)),
    }


async def test_v1_to_v2_and_again(storage: Storage) -> None:
    await v1_data(storage)
    teams = TeamService(storage, "test-secret", 3600)
    assert await schema_version(storage) == 1

    assert await migrate(storage, teams) == 4
    assert await schema_version(storage) == 4
    assert await storage.get_record(TEAM, DEFAULT_TEAM_ID) is not None
    for review_id in ("r_closed", "r_live"):
        record = await storage.get_record(REVIEW, review_id)
        assert record is not None and record["team_id"] == DEFAULT_TEAM_ID

    rows = {e.member: e.data for e in await storage.index_range(reviews_index(DEFAULT_TEAM_ID))}
    assert rows["r_closed"]["kind"] == "incident" and rows["r_closed"]["actions"] == 3
    assert rows["r_closed"]["status"] == "closed" and "failover" in rows["r_closed"]["search"]
    assert rows["r_live"]["kind"] == "launch" and rows["r_live"]["status"] == "live"
    closed_index = review_status_index(DEFAULT_TEAM_ID, "closed")
    assert [e.member for e in await storage.index_range(closed_index)] == ["r_closed"]

    # the free-text owners became people: "Priya N" and "  priya   n " are one
    people = [e.data for e in await storage.index_range(people_index(DEFAULT_TEAM_ID))]
    assert sorted(p["name"] for p in people) == ["Omar", "Priya N"]
    priya = next(p["id"] for p in people if p["name"] == "Priya N")
    states = {s["action_id"]: s for s in await storage.list_records(ACTION_STATE, "r_closed")}
    assert set(states) == {"a1", "a2", "a3"}
    assert {s["status"] for s in states.values()} == {"open"}
    assert states["a1"]["owner_id"] == states["a2"]["owner_id"] == priya
    mine = [e.member for e in await storage.index_range(person_index(priya))]
    assert mine == ["r_closed.a1", "r_closed.a2"]
    assert await storage.index_count(status_index(DEFAULT_TEAM_ID, "open")) == 3

    # someone acts on an action; then the server starts again: nothing is redone
    tracker = ActionTracker(storage, teams)
    await tracker.change_status(
        "r_closed.a3", Actor("Ada", "team-admin"), Change("wont-do", reason="Runbook exists")
    )
    before = await snapshot(storage)
    assert before["wont"] == ["r_closed.a3"]
    assert await migrate(storage, teams) == 4
    assert await snapshot(storage) == before

    # even the migration's body run once more (a process that died before recording
    # the version) adds nothing and resets no status
    await set_schema_version(storage, 1)
    assert await migrate(storage, teams) == 4
    assert await snapshot(storage) == before


async def test_an_empty_store_only_gets_the_default_team(storage: Storage) -> None:
    teams = TeamService(storage, "test-secret", 3600)
    assert await migrate(storage, teams) == 4
    assert await storage.get_record(TEAM, DEFAULT_TEAM_ID) is not None
    assert await storage.index_count(reviews_index(DEFAULT_TEAM_ID)) == 0


async def test_processes_starting_at_once_migrate_once(
    storage: Storage, open_store: Opener
) -> None:
    """Several servers on one store start together: one person per owner, one state per
    action, whoever migrates (each run has a connection of its own, as a process has)."""
    await v1_data(storage)
    stores = [storage, await open_store(), await open_store()]
    runs = [migrate(s, TeamService(s, "test-secret", 3600)) for s in stores]
    assert await asyncio.gather(*runs) == [4, 4, 4]
    people = [e.data["name"] for e in await storage.index_range(people_index(DEFAULT_TEAM_ID))]
    assert sorted(people) == ["Omar", "Priya N"]
    assert len(await storage.list_records(ACTION_STATE, "r_closed")) == 3
    assert await storage.index_count(status_index(DEFAULT_TEAM_ID, "open")) == 3
