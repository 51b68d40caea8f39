"""The facts of a closed review: the small summary that learning across reviews reads.

Pure. Built once from the review's frozen recap version (meeting/closing.py, the shape of
meeting/recap.py ``build_recap``), at close and by the schema 3 migration, and kept beside
the docs: a REVIEW_FACTS record (id: review id, grouped by team) and an entry of the
team's facts index (score: closed_ms). Insights, grouping and briefs read these, never a
review's live docs.

The frozen recap keeps no theme ids, so a theme's id here is its place in the frozen
version: "cf<n>" for the n-th contributing-factor theme (in the recap's order: category
groups, then themes), "ww<n>" for the n-th worked-well one. The frozen version never
changes, so these ids are stable; a theme ref across reviews is "<review id>:<theme id>".

Timeline markers (meeting/texts.py MARKER_LABELS) as the timeline figures read them:
- first signal: the earliest event marked "first-signal";
- first response: the earliest event marked "first-response";
- escalation: the earliest event marked "escalation-delay" (the moment escalation came,
  flagged as late; the timeline has no plain "escalation" marker).
A marker that no event carries (or whose event has no readable time) is None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from debrief.meeting import docdata as dd
from debrief.meeting.values import parse_time

REVIEW_FACTS = "review-facts"  # record kind; id: review id; grouped by team id
FACTS_VERSION = 1  # the shape below; a later shape can be rebuilt from the frozen recaps

# marker name in the facts -> the timeline marker that sets it
MARKERS: dict[str, str] = {
    "first_signal_ms": "first-signal",
    "first_response_ms": "first-response",
    "escalation_ms": "escalation-delay",
}
CONTRIBUTING = "contributing-factors"
WORKED_WELL = "worked-well"
UNGROUPED = "ungrouped"  # loose notes in the recap: not themes, so not counted


def facts_index(team_id: str) -> str:
    """A team's closed reviews' facts; score: closed_ms; data: ``build`` (the whole)."""
    return f"team/{team_id}/facts"


def followed_index(team_id: str) -> str:
    """The followed-up actions of a team's closed reviews, one member per review (its id);
    score: the review's closed_ms, so a period reads only its own actions; data:
    ``{"review_id", "actions": [packed action, ...]}`` (see ``pack``).

    Beside the status indexes (scored by due date, which cannot be read by period), and
    one row per review with its actions as short lists: a quarter of a big team is a
    thousand rows to decode, not ten thousand objects."""
    return f"team/{team_id}/followed"


# A packed action: these fields of its state, in this order (done_ms: when it last
# became done, None if it never was).
FOLLOWED_FIELDS = ("gid", "kind", "owner", "owner_id", "due", "status", "done_ms")


def pack(state: Mapping[str, Any]) -> list[Any]:
    """What insights keep of an action-state, as a short list (FOLLOWED_FIELDS)."""
    texts = [str(state.get(k) or "") for k in FOLLOWED_FIELDS[:-1]]
    return [*texts, done_ms(state)]


def unpack(review_id: str, packed: list[Any]) -> dict[str, Any]:
    """A packed action as a row insights read (with its review's id)."""
    return {**dict(zip(FOLLOWED_FIELDS, packed, strict=False)), "review_id": review_id}


def followed_row(state: Mapping[str, Any]) -> dict[str, Any]:
    """An action-state as a row insights read."""
    return unpack(str(state.get("review_id") or ""), pack(state))


def with_action(entry: Mapping[str, Any] | None, review_id: str, packed: list[Any]) -> dict:
    """A review's followed entry with one packed action put in (replaced when there)."""
    actions = [a for a in dd.items((entry or {}).get("actions")) if isinstance(a, list)]
    kept = [a for a in actions if not a or a[0] != packed[0]]
    if len(kept) == len(actions):
        return {"review_id": review_id, "actions": [*actions, packed]}
    at = next(i for i, a in enumerate(actions) if a and a[0] == packed[0])
    actions[at] = packed
    return {"review_id": review_id, "actions": actions}


def done_ms(state: Mapping[str, Any]) -> int | None:
    """When the action last became done (kept once verified); None if it never was."""
    if state.get("status") not in ("done", "verified"):
        return None
    for entry in reversed(dd.items(state.get("history"))):
        entry = dd.record(entry) or {}
        if entry.get("to") == "done":
            at = dd.number(entry.get("at_ms"))
            return int(at) if at is not None else None
    return None


def build(
    review: Mapping[str, Any],
    frozen: Mapping[str, Any],
    *,
    kind: str,
    action_gids: list[str],
) -> dict[str, Any]:
    """The facts of one closed review.

    review: the review record (id, title, closed_ms); frozen: its frozen recap; kind: its
    scope kind as the archive knows it ("" if none); action_gids: its followed-up actions.
    """
    scope = dd.record(frozen.get("scope")) or {}
    return {
        "v": FACTS_VERSION,
        "review_id": dd.text(review.get("id")),
        "title": dd.text(review.get("title")) or dd.text(frozen.get("title")),
        "closed_ms": int(dd.number(review.get("closed_ms")) or 0),
        "kind": kind,
        "themes": themes(frozen),
        "actions": [str(g) for g in action_gids],
        "markers": markers(dd.items(frozen.get("timeline"))),
        "window_start": dd.text(scope.get("window_start")),
        "window_end": dd.text(scope.get("window_end")),
    }


def themes(frozen: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every theme of the frozen recap: {id, title, category, votes, section}."""
    found: list[dict[str, Any]] = []
    n = 0
    for group in dd.items(frozen.get("contributing_factors")):
        group = dd.record(group) or {}
        category = dd.text(group.get("category")) or "other"
        if category == UNGROUPED:
            continue
        for item in dd.items(group.get("themes")):
            item = dd.record(item) or {}
            n += 1
            found.append(_theme(f"cf{n}", item, category, CONTRIBUTING))
    for n, item in enumerate(dd.items(frozen.get("worked_well")), 1):
        item = dd.record(item) or {}
        found.append(_theme(f"ww{n}", item, "", WORKED_WELL))
    return found


def _theme(theme_id: str, item: Mapping[str, Any], category: str, section: str) -> dict[str, Any]:
    return {
        "id": theme_id,
        "title": dd.text(item.get("title")),
        "category": category,
        "votes": dd.count(item.get("votes")),  # hidden counts (None) count as 0
        "section": section,
    }


def markers(events: list[Any]) -> dict[str, int | None]:
    """The first time each marker of MARKERS was set in the timeline, epoch ms or None."""
    first: dict[str, int | None] = dict.fromkeys(MARKERS)
    for raw in events:
        event = dd.record(raw) or {}
        at = time_ms(event.get("time"))
        if at is None:
            continue
        marked = set(dd.texts(event.get("markers")))
        for name, marker in MARKERS.items():
            seen = first[name]
            if marker in marked and (seen is None or at < seen):
                first[name] = at
    return first


def time_ms(value: Any) -> int | None:
    """An event's ISO UTC time as epoch ms; None when it is empty or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return int(parse_time(value).timestamp() * 1000)
    except (ValueError, OverflowError):
        return None
