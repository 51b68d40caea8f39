"""Bring stored data forward at startup: schema 1 (before teams) to 2 (teams), then 3
(the facts of closed reviews), then 4 (digests of the facts per day and month).

Version 2 puts every review in a team (the default one for reviews made before teams),
lists it in its team's reviews index, and gives the actions of every closed review a
followed-up state with its owner resolved to a person of the directory. Every step is
safe to run again, so a process that dies half-way just runs it again on its next start.

Several processes may start at once on one Redis: the first to take the migration lock
migrates, the others wait for the version to move. A Redis lock lasts only seconds; if
a long migration outlives it, a waiting process starts migrating too, which only
repeats work (every step is idempotent) and never doubles anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from pycrdt import Doc

from debrief.auth.roles import DocName, doc_key
from debrief.meeting.closing import read_actions
from debrief.meeting.service import FROZEN_RECAP, REVIEW, meeting_state
from debrief.protocol.errors import is_crdt_failure
from debrief.protocol.scan import STORED_LIMITS, scan_update
from debrief.storage.base import Storage, StorageError, StorageUnavailable
from debrief.storage.schema import schema_version, set_schema_version
from debrief.teams import facts_store, rollups
from debrief.teams.actions import ActionTracker
from debrief.teams.keys import DEFAULT_TEAM_ID, TEAM
from debrief.teams.service import TeamService

log = logging.getLogger(__name__)

TEAMS_VERSION = 2
FACTS_VERSION = 3  # the facts of closed reviews (learning across reviews, issue 16)
ROLLUPS_VERSION = 4  # their digests per day and month (teams/rollups.py)
CURRENT_VERSION = ROLLUPS_VERSION
MIGRATION_LOCK = "schema-migration"
WAIT_FOR_OTHERS_S = 600.0  # how long a process waits for another one's migration


async def migrate(storage: Storage, teams: TeamService) -> int:
    """Migrate to CURRENT_VERSION unless done already; returns the version reached."""
    deadline = time.monotonic() + WAIT_FOR_OTHERS_S
    while True:
        if await schema_version(storage) >= CURRENT_VERSION:
            return await schema_version(storage)
        entered = False
        try:
            async with storage.lock(MIGRATION_LOCK):
                entered = True
                version = await schema_version(storage)
                if version < TEAMS_VERSION:
                    log.info("migrating stored data from schema %d to %d", version, TEAMS_VERSION)
                    count = await to_teams(storage, teams)
                    await set_schema_version(storage, TEAMS_VERSION)
                    log.info("schema %d: %d reviews moved into teams", TEAMS_VERSION, count)
                    version = TEAMS_VERSION
                if version < FACTS_VERSION:
                    count = await to_facts(storage)
                    await set_schema_version(storage, FACTS_VERSION)
                    log.info("schema %d: facts kept for %d closed reviews", FACTS_VERSION, count)
                    version = FACTS_VERSION
                if version < ROLLUPS_VERSION:
                    count = await to_rollups(storage)
                    await set_schema_version(storage, ROLLUPS_VERSION)
                    log.info("schema %d: %d closed reviews digested", ROLLUPS_VERSION, count)
                return await schema_version(storage)
        except StorageUnavailable:
            raise
        except StorageError:
            # The lock is busy (another process migrates): wait for it, then look again.
            if entered or time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def to_teams(storage: Storage, teams: TeamService) -> int:
    """Schema 1 -> 2 for every review; returns how many reviews were looked at."""
    await teams.ensure_default_team()
    tracker = ActionTracker(storage, teams)
    count = 0
    async for review_id, review in storage.all_records(REVIEW):
        await migrate_review(storage, teams, tracker, {**review, "id": review.get("id", review_id)})
        count += 1
    return count


async def to_facts(storage: Storage) -> int:
    """Schema 2 -> 3: the facts of every closed review, from its frozen version (safe to
    run again: the same frozen version gives the same facts)."""
    count = 0
    async for review_id, review in storage.all_records(REVIEW):
        if review.get("status") == "closed" and await facts_store.record_closed(
            storage, str(review.get("id") or review_id)
        ):
            count += 1
    return count


async def to_rollups(storage: Storage) -> int:
    """Schema 3 -> 4: every team's digests and timeline rows, from its facts (safe to run
    again: they are rebuilt whole)."""
    count = 0
    async for team_id, _ in storage.all_records(TEAM):
        count += await rollups.rebuild(storage, team_id)
    return count


async def migrate_review(
    storage: Storage, teams: TeamService, tracker: ActionTracker, review: dict[str, Any]
) -> None:
    review_id = str(review["id"])
    if not review.get("team_id"):
        review = {**review, "team_id": DEFAULT_TEAM_ID}
        await storage.put_record(REVIEW, review_id, review, review_id)
    team_id = str(review["team_id"])
    room = await read_doc(storage, doc_key(review_id, DocName.ROOM))
    template = str(meeting_state(room).get("template") or "") if room is not None else ""
    frozen = await storage.get_record(FROZEN_RECAP, review_id)
    closed = review.get("status") == "closed" and frozen is not None
    actions = closed_actions(review_id, frozen, await read_doc(
        storage, doc_key(review_id, DocName.RECAP))) if closed else []  # fmt: skip
    await teams.archive.review_changed(review, template, len(actions) if closed else None)
    if actions:
        await tracker.index_closed_review(review, actions, team_id)


def closed_actions(
    review_id: str, frozen: dict[str, Any] | None, recap: Doc | None
) -> list[dict[str, Any]]:
    """The actions of a closed review, with their ids.

    The recap doc is read-only since the close, so its actions are the frozen wording
    and carry the ids the recap page matches statuses by. When it cannot be read, the
    frozen version's actions are used with ids of their position ("frozen-1", ...).
    """
    if recap is not None:
        found = read_actions(recap)
        if found:
            return found
    listed = frozen.get("actions") if frozen else None
    if not isinstance(listed, list):
        return []
    actions = []
    for n, action in enumerate(listed, 1):
        if isinstance(action, dict):
            actions.append({**action, "id": f"frozen-{n}"})
    if actions:
        log.warning("review %s: actions taken from its frozen recap", review_id)
    return actions


async def read_doc(storage: Storage, key: str) -> Doc | None:
    """A doc as stored (snapshot and updates), or None when it is missing or unreadable."""
    stored = await storage.load_doc(key)
    if stored.snapshot is None and not stored.updates:
        return None
    doc: Doc = Doc()
    try:
        for update in (stored.snapshot, *stored.updates):
            if update:
                scan_update(update, STORED_LIMITS)  # bounded before pycrdt decodes it
                doc.apply_update(update)
    except BaseException as exc:  # a Rust panic in pycrdt is a BaseException
        if not is_crdt_failure(exc):
            raise
        log.warning("migration: %s could not be read (%s); going on without it", key, exc)
        return None
    return doc
