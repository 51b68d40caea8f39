"""A team's recurring themes: the kept grouping, and the groups of a set of closed reviews.

The kept grouping is one record per team (kind THEME_GROUPS, id and group: the team id):
``{team_id, groups: [{id, name, refs, created_ms, updated_ms}], splits: [[ref, ref]],
updated_ms}``. Confirmed groups hold theme refs ("<review id>:<theme id>"); a split pair
is two themes a person said do not belong together. Suggestions (learning/grouping.py)
are computed on every read from the facts index and respect both, so the grouping
survives restarts and new reviews: a new review's similar theme is only *suggested* for
a confirmed group until someone confirms it.

Themes come from the facts index (``team/<t>/facts``, one row per closed review, built
at close from the frozen recap); action statuses from the action-state records of the
group's reviews. Never from live docs.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from debrief.learning import friction as fr
from debrief.learning import grouping as gp
from debrief.learning.facts import CONTRIBUTING, facts_index
from debrief.meeting.errors import Conflict, NotFound, ValidationError
from debrief.storage.base import Storage
from debrief.teams.actions import ActionTracker

THEME_GROUPS = "theme-groups"
MAX_GROUPS = 500
MAX_GROUP_REFS = 500
MAX_SPLITS = 20_000
MAX_NAME = 120
MAX_FACTS = 2_000  # closed reviews read for one view (a quarter holds far fewer)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def empty(team_id: str) -> dict[str, Any]:
    return {"team_id": team_id, "groups": [], "splits": [], "updated_ms": 0}


# --- reading facts --------------------------------------------------------------------


async def facts_between(storage: Storage, team_id: str, low: float, high: float) -> list[dict]:
    """The facts rows of the team's reviews closed from ``low`` to ``high`` (ms)."""
    entries = await storage.index_range(facts_index(team_id), low=low, high=high, limit=MAX_FACTS)
    return [e.data for e in entries]


async def facts_of(storage: Storage, team_id: str, review_ids: Iterable[str]) -> list[dict]:
    """The facts rows of these reviews (reviews not closed in this team are left out)."""
    found = []
    for review_id in dict.fromkeys(review_ids):
        entry = await storage.index_get(facts_index(team_id), review_id)
        if entry is not None:
            found.append(entry.data)
    return found


def themes_of(facts: Iterable[Mapping[str, Any]]) -> list[gp.Theme]:
    """The contributing-factor themes of these closed reviews, as grouping takes them."""
    themes = []
    for row in facts:
        review_id = str(row.get("review_id") or "")
        closed_ms = row.get("closed_ms")
        for theme in row.get("themes") or ():
            if not isinstance(theme, Mapping) or not review_id or not theme.get("id"):
                continue
            if theme.get("section", CONTRIBUTING) != CONTRIBUTING:
                continue  # what worked well is not a finding that recurs as friction
            votes = theme.get("votes")
            themes.append(
                gp.Theme(
                    review_id,
                    str(theme["id"]),
                    str(theme.get("title") or ""),
                    closed_ms if isinstance(closed_ms, int) else 0,
                    votes if isinstance(votes, int) else 0,
                    str(theme.get("category") or ""),
                )
            )
    return themes


# --- the kept grouping ----------------------------------------------------------------


class ThemeGroups:
    """Reads and changes one team's kept grouping; builds the themes and friction views."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def record(self, team_id: str) -> dict[str, Any]:
        found = await self.storage.get_record(THEME_GROUPS, team_id)
        return {**empty(team_id), **(found or {})}

    async def kept(self, team_id: str) -> gp.Kept:
        record = await self.record(team_id)
        return gp.Kept(groups=record["groups"], splits=record["splits"])

    async def _save(self, team_id: str, record: dict[str, Any]) -> None:
        record["updated_ms"] = now_ms()
        await self.storage.put_record(THEME_GROUPS, team_id, record, team_id)

    async def check_refs(self, team_id: str, refs: Sequence[str]) -> None:
        """404 unless every ref names a theme of a closed review of this team."""
        themes: dict[str, set[str]] = {}
        for ref in refs:
            parsed = gp.parse_ref(ref)
            if parsed is None:
                raise ValidationError(f"{ref!r} is not a theme ref like <review id>:<theme id>",
                                      field="refs")  # fmt: skip
            review_id, theme_id = parsed
            if review_id not in themes:
                rows = await facts_of(self.storage, team_id, [review_id])
                themes[review_id] = {t.theme_id for t in themes_of(rows)}
            if theme_id not in themes[review_id]:
                raise NotFound(f"no closed review of this team has the theme {ref!r}",
                               error="unknown-theme")  # fmt: skip

    async def confirm(
        self, team_id: str, refs: Sequence[str], name: str = "", group_id: str = ""
    ) -> dict[str, Any]:
        """Keep ``refs`` together: a new confirmed group, or added to ``group_id``. A theme
        is in one confirmed group at most (it leaves any other), and confirming overrides
        an earlier split between the themes confirmed together."""
        refs = list(dict.fromkeys(refs))
        await self.check_refs(team_id, refs)
        async with self.storage.lock(f"{THEME_GROUPS}:{team_id}"):
            record = await self.record(team_id)
            groups: list[dict[str, Any]] = record["groups"]
            if group_id:
                target = _find(groups, group_id)
            else:
                if len(refs) < 2:
                    raise ValidationError("a new group needs at least two themes", field="refs")
                if len(groups) >= MAX_GROUPS:
                    raise Conflict(f"a team keeps at most {MAX_GROUPS} groups", error="groups-full")
                target = {"id": "g_" + secrets.token_hex(6), "name": "", "refs": [],
                          "created_ms": now_ms()}  # fmt: skip
                groups.append(target)
            for group in groups:
                if group is not target:
                    group["refs"] = [r for r in group["refs"] if r not in refs]
            members = list(dict.fromkeys([*target["refs"], *refs]))
            if len(members) > MAX_GROUP_REFS:
                raise Conflict(f"a group holds at most {MAX_GROUP_REFS} themes", error="group-full")
            target["refs"] = members
            if name.strip():
                target["name"] = name.strip()[:MAX_NAME]
            target["updated_ms"] = now_ms()
            together = set(members)
            record["splits"] = [p for p in record["splits"] if not set(p) <= together]
            record["groups"] = [g for g in groups if g["refs"]]
            await self._save(team_id, record)
        return dict(target)

    async def split(
        self, team_id: str, group_id: str, refs: Sequence[str], members: Sequence[str]
    ) -> dict[str, Any]:
        """Take ``refs`` out of a group (``members``: the group's themes as shown, for a
        suggested group or a confirmed one's suggested additions) and remember that they
        do not belong with the rest; a confirmed group left empty goes."""
        refs = list(dict.fromkeys(refs))
        async with self.storage.lock(f"{THEME_GROUPS}:{team_id}"):
            record = await self.record(team_id)
            groups: list[dict[str, Any]] = record["groups"]
            kept_members: list[str] = []
            if not group_id.startswith("s-"):
                group = _find(groups, group_id)
                kept_members = list(group["refs"])
                group["refs"] = [r for r in group["refs"] if r not in refs]
                group["updated_ms"] = now_ms()
            everyone = list(dict.fromkeys([*kept_members, *members]))
            unknown = [r for r in refs if r not in everyone]
            if unknown:
                raise ValidationError(f"not in this group: {', '.join(unknown[:5])}", field="refs")
            rest = [r for r in everyone if r not in refs]
            pairs = _pairs(refs, rest) if rest else _pairs(refs, refs)
            known = {frozenset(p) for p in record["splits"]}
            fresh = [sorted(p) for p in dict.fromkeys(pairs) if p not in known]
            if len(record["splits"]) + len(fresh) > MAX_SPLITS:
                raise Conflict("this team has recorded too many splits", error="splits-full")
            record["splits"] = [*record["splits"], *fresh]
            record["groups"] = [g for g in groups if g["refs"]]
            await self._save(team_id, record)
        return {"group": group_id, "split": refs, "pairs": len(fresh)}

    async def forget_review(self, team_id: str, review_id: str) -> None:
        """Drop a deleted review's themes from the kept grouping: from confirmed groups
        (a group left empty goes) and from split pairs."""
        prefix = f"{review_id}:"
        async with self.storage.lock(f"{THEME_GROUPS}:{team_id}"):
            record = await self.storage.get_record(THEME_GROUPS, team_id)
            if record is None:
                return
            for group in record.get("groups", []):
                group["refs"] = [r for r in group["refs"] if not r.startswith(prefix)]
            record["groups"] = [g for g in record.get("groups", []) if g["refs"]]
            record["splits"] = [
                p for p in record.get("splits", []) if not any(r.startswith(prefix) for r in p)
            ]
            await self._save(team_id, record)

    # --- views ------------------------------------------------------------------------

    async def view(self, team_id: str, facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The groups of these closed reviews' themes with their counts, and the friction
        ranking of those groups."""
        themes = themes_of(facts)
        kept = await self.kept(team_id)
        # Up to MAX_THEMES themes compared pairwise: off the event loop, so a team's big
        # quarter never holds up anyone's meeting.
        groups = await asyncio.to_thread(gp.group_themes, themes, kept)
        titles = {str(f.get("review_id")): str(f.get("title") or "") for f in facts}
        grouped = {r for g in groups for r in g.review_ids}
        statuses = await self._statuses(sorted(grouped))
        figures = []
        shown: list[dict[str, Any]] = []
        for group in groups:
            counts = fr.count_actions(group.review_ids, statuses)
            figures.append(
                fr.GroupFigures(
                    group.id,
                    group.name,
                    len(group.review_ids),
                    group.votes,
                    counts["open"],
                    counts["in-progress"],
                    counts["done"],
                )
            )
            shown.append(
                {
                    "id": group.id,
                    "name": group.name,
                    "confirmed": group.confirmed,
                    "themes": [_theme_view(t, titles) for t in group.themes],
                    "suggested": [_theme_view(t, titles) for t in group.suggested],
                    "reviews": len(group.review_ids),
                    "votes": group.votes,
                    "actions": {**counts, "not_verified": sum(counts.values())},
                }
            )
        ranking = fr.rank(figures)
        place = {r["id"]: r["rank"] for r in ranking}
        for row in shown:
            row["friction_rank"] = place[row["id"]]
        return {
            "reviews": len(facts),
            "themes": len(themes),
            "groups": shown,
            "friction": ranking,
        }

    async def _statuses(self, review_ids: Sequence[str]) -> dict[str, list[str]]:
        tracker = ActionTracker(self.storage)
        found = {}
        for review_id in review_ids:
            found[review_id] = [str(s.get("status")) for s in await tracker.of_review(review_id)]
        return found


def _find(groups: Sequence[dict[str, Any]], group_id: str) -> dict[str, Any]:
    for group in groups:
        if group["id"] == group_id:
            return group
    raise NotFound("this team has no confirmed group with this id", error="unknown-group")


def _pairs(a: Sequence[str], b: Sequence[str]) -> list[frozenset[str]]:
    return [frozenset((x, y)) for x in a for y in b if x != y]


def _theme_view(theme: gp.Theme, titles: Mapping[str, str]) -> dict[str, Any]:
    return {
        "ref": theme.ref,
        "review_id": theme.review_id,
        "review_title": titles.get(theme.review_id, ""),
        "theme_id": theme.theme_id,
        "title": theme.title,
        "category": theme.category,
        "votes": theme.votes,
        "closed_ms": theme.closed_ms,
    }
