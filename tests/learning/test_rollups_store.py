"""Stored digests (teams/rollups.py) give exactly the figures computed from every review of
the period (learning/insights.py compute), for any period, after closes, status changes,
deletions and a rebuild by the schema 4 migration; on SQLite and on Redis."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from debrief.http.insights_api import figures
from debrief.learning import insights as ins
from debrief.learning.facts import facts_index, followed_index, pack
from debrief.storage.base import Storage
from debrief.storage.schema import set_schema_version
from debrief.teams import facts_store, rollups
from debrief.teams.migrate import FACTS_VERSION, migrate
from debrief.teams.service import TeamService

TEAM = "t_default"  # the migration rebuilds the teams it finds: the default one is made
DAY = 86_400_000
START = date(2025, 11, 20)  # reviews close over ~14 months from here, across a year's end
TODAY = date(2027, 1, 20)
STATUSES = ("open", "in-progress", "done", "verified", "wont-do")
KINDS = ("prevention", "detection", "mitigation", "process", "")
CATEGORIES = ("process-gap", "tooling", "role-ambiguity", "information-gap", "odd-one")


def ms(day: date, minute: int = 0) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000) + (
        minute * 60_000
    )


def seeded(rng: random.Random, n: int) -> tuple[list[dict], list[dict[str, Any]]]:
    """n reviews' facts (some on the same day, on month edges) and their action states."""
    facts, states = [], []
    for i in range(n):
        day = START + timedelta(days=rng.choice([0, 10, 11, 41, 42, 72, 100, 130, 222, 400]))
        closed = ms(day, rng.randrange(0, 1440))
        signal = closed - rng.randrange(60, 5000) * 60_000
        markers = {
            "first_signal_ms": signal if rng.random() < 0.8 else None,
            "first_response_ms": signal + rng.randrange(0, 600) * 60_000,
            "escalation_ms": signal + rng.randrange(-30, 3000) * 60_000
            if rng.random() < 0.6 else None,
        }  # fmt: skip
        themes = [
            {"id": f"cf{t}", "title": f"theme {t}", "category": rng.choice(CATEGORIES),
             "votes": rng.randrange(0, 6), "section": "contributing-factors"}
            for t in range(rng.randrange(0, 4))
        ]  # fmt: skip
        review_id = f"r{i}"
        gids = [f"{review_id}.a{k}" for k in range(rng.randrange(0, 5))]
        facts.append({"review_id": review_id, "title": f"Review {i}", "closed_ms": closed,
                      "kind": "incident", "themes": themes, "actions": gids,
                      "markers": markers, "window_start": "", "window_end": ""})  # fmt: skip
        for gid in gids:
            states.append(state(rng, review_id, gid, closed))
    return facts, states


def state(rng: random.Random, review_id: str, gid: str, closed: int) -> dict[str, Any]:
    status = rng.choice(STATUSES)
    history = []
    if status in ("done", "verified") and rng.random() < 0.9:
        history.append({"to": "done", "at_ms": closed + rng.randrange(0, 40 * DAY)})
    owner = rng.choice(["Priya", "Omar", "", "priya "])
    return {
        "gid": gid, "review_id": review_id, "team_id": TEAM, "status": status,
        "kind": rng.choice(KINDS), "owner": owner,
        "owner_id": rng.choice(["", "p_1", "p_2"]) if owner else "",
        "due": (START + timedelta(days=rng.randrange(0, 500))).isoformat()
        if rng.random() < 0.8 else "",
        "history": history,
    }  # fmt: skip


async def close(storage: Storage, facts: dict, states: list[dict]) -> None:
    """What facts_store.record_closed writes, from given facts (no frozen recap needed)."""
    mine = [s for s in states if s["review_id"] == facts["review_id"]]
    await facts_store.put(storage, TEAM, facts)
    await storage.index_put(followed_index(TEAM), facts["review_id"], facts["closed_ms"],
                            {"review_id": facts["review_id"],
                             "actions": [pack(s) for s in mine]})  # fmt: skip
    await rollups.review_closed(storage, TEAM, facts)


def periods(rng: random.Random) -> list[tuple[date, date]]:
    fixed = [
        (date(2025, 11, 1), date(2027, 1, 31)),  # everything, whole months only
        (date(2025, 11, 20), date(2025, 11, 20)),  # one day
        (date(2025, 11, 25), date(2026, 1, 3)),  # across a year's end, partial at both ends
        (date(2025, 12, 1), date(2025, 12, 31)),  # one whole month
        (date(2025, 12, 1), date(2026, 1, 30)),  # whole month + partial one
        (date(2025, 12, 2), date(2026, 2, 28)),  # partial + whole months
        (date(2026, 3, 1), date(2026, 3, 5)),  # no review
    ]
    span = (TODAY - START).days
    for _ in range(12):
        a = START - timedelta(days=20) + timedelta(days=rng.randrange(0, span))
        fixed.append((a, a + timedelta(days=rng.randrange(0, 400))))
    return fixed


async def expected(storage: Storage, since: date, until: date) -> dict[str, Any]:
    """The figures computed from every review of the period (the raw indexes)."""
    low, high = ms(since), ms(until) + DAY - 1
    facts = await facts_store.in_range(storage, TEAM, low, high)
    actions = await facts_store.followed_in_range(storage, TEAM, low, high)
    return ins.compute(facts, actions, since=since, until=until, today=TODAY)


async def check_every_period(storage: Storage, rng: random.Random) -> int:
    checked = 0
    for since, until in periods(rng):
        found = await figures(storage, TEAM, since, until, TODAY, None)
        want = await expected(storage, since, until)
        assert found == want, (since, until)
        checked += found["reviews"]
    return checked


async def test_digests_match_the_figures_of_every_review(storage: Storage) -> None:
    rng = random.Random(16)
    facts, states = seeded(rng, 60)
    for f in facts:
        await close(storage, f, states)
    assert await check_every_period(storage, rng) > 60  # periods overlap: reviews recount

    # Status changes (as teams/live.py passes them on), then deletions.
    for s in rng.sample(states, 25):
        changed = state(rng, s["review_id"], s["gid"], 0) | {"history": []}
        closed = next(f["closed_ms"] for f in facts if f["review_id"] == s["review_id"])
        if changed["status"] in ("done", "verified"):
            changed["history"] = [{"to": "done", "at_ms": closed + 3 * DAY}]
        await facts_store.action_changed(storage, changed)
    for f in rng.sample(facts, 10):
        await facts_store.forget(storage, TEAM, f["review_id"])
    await check_every_period(storage, rng)


async def test_the_timeline_rows_shown_are_the_latest_of_the_period(storage: Storage) -> None:
    rng = random.Random(7)
    facts, states = seeded(rng, 40)
    for f in facts:
        await close(storage, f, states)
    since, until = date(2025, 11, 1), date(2027, 1, 31)
    every = await figures(storage, TEAM, since, until, TODAY, None)
    latest = await figures(storage, TEAM, since, until, TODAY, 5)
    rows = every["timeline"]["reviews"]
    assert len(rows) == every["timeline"]["reviews_total"] > 5
    assert latest["timeline"]["reviews"] == rows[-5:]
    assert latest["timeline"]["reviews_total"] == len(rows)
    assert latest["timeline"]["distribution"] == every["timeline"]["distribution"]


async def test_the_schema_4_migration_builds_the_digests_of_earlier_facts(
    storage: Storage,
) -> None:
    """A store at schema 3 has facts but no digests: after the migration the figures are
    the same as computed from every review; running it again changes nothing."""
    rng = random.Random(4)
    facts, states = seeded(rng, 30)
    teams = TeamService(storage, "test-secret", 3600)
    await teams.ensure_default_team()
    for f in facts:
        mine = [s for s in states if s["review_id"] == f["review_id"]]
        await storage.index_put(facts_index(TEAM), f["review_id"], f["closed_ms"], f)
        await storage.index_put(followed_index(TEAM), f["review_id"], f["closed_ms"],
                                {"review_id": f["review_id"],
                                 "actions": [pack(s) for s in mine]})  # fmt: skip
    await set_schema_version(storage, FACTS_VERSION)
    assert await storage.index_count(rollups.months_index(TEAM)) == 0
    assert await migrate(storage, teams) == 4
    assert await storage.index_count(rollups.months_index(TEAM)) > 0
    await check_every_period(storage, rng)
    days = await storage.index_range(rollups.days_index(TEAM))
    await set_schema_version(storage, FACTS_VERSION)
    assert await migrate(storage, teams) == 4
    assert await storage.index_range(rollups.days_index(TEAM)) == days


async def test_a_bad_stored_digest_fails_alone(storage: Storage) -> None:
    """Readers are total: a digest of the wrong shape counts as nothing, the rest stands."""
    rng = random.Random(3)
    facts, states = seeded(rng, 10)
    for f in facts:
        await close(storage, f, states)
    await storage.index_put(rollups.days_index(TEAM), "2027-01-10", ms(date(2027, 1, 10)),
                            {"reviews": "many", "cat": [1], "tally": {"t": "x"},
                             "resp": {"abc": 2}, "names": 5})  # fmt: skip
    await storage.index_put(rollups.timeline_index(TEAM), "r_odd", ms(date(2027, 1, 10)),
                            {"title": 5})  # fmt: skip
    found = await figures(storage, TEAM, date(2025, 11, 1), date(2027, 1, 31), TODAY, None)
    assert found["reviews"] == len(facts)
    columns, rows = ins.table(found, "timeline")  # the download takes a row of any shape
    assert [None, 5] == rows[-1][:2] and len(rows[-1]) == len(columns)
