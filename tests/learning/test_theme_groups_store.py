"""The kept grouping on both backends: confirm, split, what suggestions make of them,
and forgetting a deleted review."""

from __future__ import annotations

from typing import Any

import pytest

from debrief.learning.facts import facts_index
from debrief.meeting.errors import NotFound, ValidationError
from debrief.storage.base import Storage
from debrief.teams.theme_groups import ThemeGroups

TEAM = "t_test"


async def closed(storage: Storage, review_id: str, closed_ms: int, *titles: str) -> None:
    themes = [{"id": f"cf{n}", "title": t, "category": "tooling", "votes": n,
               "section": "contributing-factors"} for n, t in enumerate(titles, 1)]  # fmt: skip
    themes.append({"id": "ww1", "title": titles[0], "category": "", "votes": 9,
                   "section": "worked-well"})  # fmt: skip
    facts = {"review_id": review_id, "title": review_id, "closed_ms": closed_ms, "themes": themes}
    await storage.index_put(facts_index(TEAM), review_id, float(closed_ms), facts)


async def view(groups: ThemeGroups, storage: Storage) -> dict[str, Any]:
    entries = await storage.index_range(facts_index(TEAM))
    return await groups.view(TEAM, [e.data for e in entries])


def members(found: dict[str, Any]) -> list[list[str]]:
    return [[t["ref"] for t in g["themes"]] for g in found["groups"]]


async def test_confirm_split_and_forget(storage: Storage) -> None:
    await closed(storage, "r_a", 1, "Deploy lock was not released", "Slow disk alarms")
    await closed(storage, "r_b", 2, "The deploy lock was never released")
    await closed(storage, "r_c", 3, "Deploy lock not released again")
    groups = ThemeGroups(storage)
    found = await view(groups, storage)
    assert members(found) == [["r_a:cf1", "r_b:cf1", "r_c:cf1"]]  # worked-well left out
    assert found["themes"] == 4 and found["reviews"] == 3

    with pytest.raises(NotFound):
        await groups.confirm(TEAM, ["r_a:cf1", "r_a:cf9"])
    with pytest.raises(ValidationError):
        await groups.confirm(TEAM, ["r_a:cf1"])  # a new group needs two themes
    kept = await groups.confirm(TEAM, ["r_a:cf1", "r_b:cf1"], "Deploy locks")
    found = await view(groups, storage)
    first = found["groups"][0]
    assert first["id"] == kept["id"] and first["confirmed"] and first["name"] == "Deploy locks"
    assert [t["ref"] for t in first["suggested"]] == ["r_c:cf1"]

    # Splitting the suggested theme away: it is no longer suggested for the group.
    await groups.split(TEAM, kept["id"], ["r_c:cf1"], ["r_c:cf1"])
    found = await view(groups, storage)
    assert found["groups"][0]["suggested"] == [] and len(found["groups"]) == 1
    # Confirming it after all overrides the split.
    await groups.confirm(TEAM, ["r_c:cf1"], group_id=kept["id"])
    found = await view(groups, storage)
    assert members(found) == [["r_a:cf1", "r_b:cf1", "r_c:cf1"]]
    assert (await groups.record(TEAM))["splits"] == []

    await groups.forget_review(TEAM, "r_b")
    assert (await groups.record(TEAM))["groups"][0]["refs"] == ["r_a:cf1", "r_c:cf1"]
