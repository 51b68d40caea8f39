"""Insights across a team's closed reviews in a period: the figures and their tables.

Pure. Input: the facts of the reviews closed in the period (learning/facts.py) and the
followed-up state of their actions as the team's followed index keeps it
(teams/facts_store.py ``followed_row``: gid, review_id, kind, owner, owner_id, due, status,
done_ms). Nothing here reads storage.

What the follow-through numbers mean (the same in every row: totals, by kind, by owner):
- created: the actions agreed in the period's reviews;
- done: those whose work is done, waiting for verification or verified;
- verified, wont_do: those in that status; open, in_progress likewise;
- overdue: open or in progress and due before today (UTC);
- median_days_to_done: median of (became done - review closed), in days, over the done
  ones whose "done" time is known;
- verification_rate: verified / done (None when nothing is done).
Timeline figures, per review whose markers allow it: minutes from the first signal to
the first response and to escalation (a time before the first signal is left out as a
slip of the timeline, not a figure).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from debrief.meeting.texts import ACTION_KIND_LABELS, THEME_CATEGORY_LABELS

DAY_MS = 86_400_000
MINUTE_MS = 60_000
CATEGORIES = tuple(THEME_CATEGORY_LABELS)
KINDS = tuple(ACTION_KIND_LABELS)
NO_KIND_LABEL = "No kind given"
NO_OWNER_LABEL = "No owner"
# Distribution buckets of the timeline figures, in minutes: [low, high).
BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("under 15 min", 0, 15),
    ("15-30 min", 15, 30),
    ("30-60 min", 30, 60),
    ("1-2 h", 60, 120),
    ("2-4 h", 120, 240),
    ("4-8 h", 240, 480),
    ("8-24 h", 480, 1440),
    ("1 day or more", 1440, float("inf")),
)
FOLLOW_KEYS = (
    "created", "open", "in_progress", "done", "verified", "wont_do", "overdue",
    "median_days_to_done", "verification_rate",
)  # fmt: skip
# Figures that can be downloaded on their own (GET .../insights?figure=<name>).
FIGURES = (
    "categories",
    "category-trend",
    "follow-through",
    "follow-through-by-kind",
    "follow-through-by-owner",
    "timeline",
    "timeline-distribution",
)


def month_of(ms: float) -> str:
    """The UTC month of a time, "YYYY-MM"."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m")


def months(since: date, until: date) -> list[str]:
    """Every month from since's to until's, "YYYY-MM", in order."""
    found, year, month = [], since.year, since.month
    while (year, month) <= (until.year, until.month):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def compute(
    facts: Sequence[Mapping[str, Any]],
    actions: Iterable[Mapping[str, Any]],
    *,
    since: date,
    until: date,
    today: date,
) -> dict[str, Any]:
    """Every figure of the period [since, until] (days, UTC, both included)."""
    closed = {str(f.get("review_id")): int(f.get("closed_ms") or 0) for f in facts}
    mine = [a for a in actions if str(a.get("review_id")) in closed]
    return {
        "period": {"since": since.isoformat(), "until": until.isoformat()},
        "reviews": len(facts),
        "categories": categories(facts),
        "category_trend": category_trend(facts, months(since, until)),
        "follow_through": follow_through(mine, closed, today),
        "timeline": timeline(facts),
    }


# --- contributing-factor categories ----------------------------------------------------


def _factor_themes(facts: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    themes = facts.get("themes") or []
    return [t for t in themes if t.get("section") == "contributing-factors"]


def _category_order(found: Iterable[str]) -> list[str]:
    return list(CATEGORIES) + sorted(set(found) - set(CATEGORIES))


def _label(category: str) -> str:
    return THEME_CATEGORY_LABELS.get(category) or category.replace("-", " ").capitalize()


def categories(facts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per category: themes, reviews with at least one, votes (every category listed)."""
    themes: dict[str, int] = {}
    votes: dict[str, int] = {}
    reviews: dict[str, set[str]] = {}
    for f in facts:
        for t in _factor_themes(f):
            c = str(t.get("category") or "other")
            themes[c] = themes.get(c, 0) + 1
            votes[c] = votes.get(c, 0) + int(t.get("votes") or 0)
            reviews.setdefault(c, set()).add(str(f.get("review_id")))
    return [
        {"category": c, "label": _label(c), "themes": themes.get(c, 0),
         "reviews": len(reviews.get(c, ())), "votes": votes.get(c, 0)}
        for c in _category_order(themes)
    ]  # fmt: skip


def category_trend(facts: Sequence[Mapping[str, Any]], month_list: list[str]) -> dict[str, Any]:
    """Per category, themes and votes in each month (by the review's close)."""
    at = {m: i for i, m in enumerate(month_list)}
    themes: dict[str, list[int]] = {}
    votes: dict[str, list[int]] = {}
    for f in facts:
        i = at.get(month_of(float(f.get("closed_ms") or 0)))
        if i is None:
            continue
        for t in _factor_themes(f):
            c = str(t.get("category") or "other")
            themes.setdefault(c, [0] * len(month_list))[i] += 1
            votes.setdefault(c, [0] * len(month_list))[i] += int(t.get("votes") or 0)
    empty = [0] * len(month_list)
    series = [
        {"category": c, "label": _label(c), "themes": themes.get(c, empty),
         "votes": votes.get(c, empty)}
        for c in _category_order(themes)
    ]  # fmt: skip
    return {"months": month_list, "series": series}


# --- follow-through ----------------------------------------------------------------------


_STATUS_KEYS = {"open": "open", "in-progress": "in_progress", "verified": "verified",
                "wont-do": "wont_do", "done": ""}  # fmt: skip


class _Tally:
    """The follow-through numbers of a group of actions, counted in one pass."""

    __slots__ = ("counts", "days")

    def __init__(self) -> None:
        self.counts = dict.fromkeys(FOLLOW_KEYS[:7], 0)
        self.days: list[float] = []

    def add(self, status: str, overdue: bool, days: float | None) -> None:
        counts = self.counts
        counts["created"] += 1
        key = _STATUS_KEYS.get(status)
        if key:
            counts[key] += 1
        if status in ("done", "verified"):
            counts["done"] += 1
            if days is not None:
                self.days.append(days)
        if overdue:
            counts["overdue"] += 1

    def row(self) -> dict[str, Any]:
        done, verified = self.counts["done"], self.counts["verified"]
        return {
            **self.counts,
            "median_days_to_done": round(statistics.median(self.days), 1) if self.days else None,
            "verification_rate": round(verified / done, 3) if done else None,
        }


def _is_overdue(status: str, due: str, today: str) -> bool:
    """Open or in progress, due before today (ISO dates compare as text)."""
    return status in ("open", "in-progress") and len(due) == 10 and due < today


def follow_row(
    actions: Sequence[Mapping[str, Any]], closed: Mapping[str, int], today: date
) -> dict[str, Any]:
    """The follow-through numbers of a set of actions (see the module's docstring)."""
    totals: dict[str, Any] = follow_through(actions, closed, today)["totals"]
    return totals


def follow_through(
    actions: Sequence[Mapping[str, Any]], closed: Mapping[str, int], today: date
) -> dict[str, Any]:
    """Totals, by kind and by owner, in one pass over the actions."""
    day = today.isoformat()
    totals = _Tally()
    by_kind: dict[str, _Tally] = {}
    by_owner: dict[str, _Tally] = {}
    names: dict[str, str] = {}
    for a in actions:
        status, done_ms = str(a.get("status") or ""), a.get("done_ms")
        overdue = _is_overdue(status, str(a.get("due") or ""), day)
        days = None
        if isinstance(done_ms, int | float) and status in ("done", "verified"):
            days = max(0.0, (done_ms - closed.get(str(a.get("review_id")), 0)) / DAY_MS)
        owner_id = str(a.get("owner_id") or "")
        key = owner_id
        if not key:
            owner = " ".join(str(a.get("owner") or "").split())
            key = f"name:{owner.casefold()}" if owner else ""
            names.setdefault(key, owner or NO_OWNER_LABEL)
        elif key not in names:
            names[key] = " ".join(str(a.get("owner") or "").split()) or NO_OWNER_LABEL
        kind = str(a.get("kind") or "")
        for tally in (
            totals,
            by_kind.get(kind) or by_kind.setdefault(kind, _Tally()),
            by_owner.get(key) or by_owner.setdefault(key, _Tally()),
        ):
            tally.add(status, overdue, days)
    kinds = [k for k in KINDS if k in by_kind] + sorted(set(by_kind) - set(KINDS))
    owners = sorted(
        by_owner, key=lambda k: (-by_owner[k].counts["created"], names[k].casefold(), k)
    )
    return {
        "totals": totals.row(),
        "by_kind": [
            {"kind": k, "label": ACTION_KIND_LABELS.get(k, k) or NO_KIND_LABEL,
             **by_kind[k].row()}
            for k in kinds
        ],
        "by_owner": [
            {"owner_id": "" if k.startswith("name:") else k, "owner": names[k],
             **by_owner[k].row()}
            for k in owners
        ],
    }  # fmt: skip


# --- timeline ------------------------------------------------------------------------------


def _minutes(start: Any, end: Any) -> float | None:
    if not isinstance(start, int | float) or not isinstance(end, int | float) or end < start:
        return None
    return round((end - start) / MINUTE_MS, 1)


def timeline(facts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Signal -> response and signal -> escalation per review, and their distribution."""
    rows = []
    for f in facts:
        m = f.get("markers") or {}
        signal = m.get("first_signal_ms")
        response = _minutes(signal, m.get("first_response_ms"))
        escalation = _minutes(signal, m.get("escalation_ms"))
        if response is None and escalation is None:
            continue
        rows.append({
            "review_id": f.get("review_id"), "title": f.get("title"),
            "closed_ms": f.get("closed_ms"), "first_signal_ms": signal,
            "signal_to_response_min": response, "signal_to_escalation_min": escalation,
        })  # fmt: skip
    to_response = _present(rows, "signal_to_response_min")
    to_escalation = _present(rows, "signal_to_escalation_min")
    buckets = [
        {"bucket": label, "low_min": low, "high_min": None if high == float("inf") else high,
         "response": sum(low <= x < high for x in to_response),
         "escalation": sum(low <= x < high for x in to_escalation)}
        for label, low, high in BUCKETS
    ]  # fmt: skip
    return {
        "reviews": rows,
        "distribution": buckets,
        "response": _summary(to_response),
        "escalation": _summary(to_escalation),
    }


def _present(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in rows if r[key] is not None]


def _summary(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "median_min": round(statistics.median(values), 1) if values else None,
    }


# --- downloads --------------------------------------------------------------------------------


def table(insights: Mapping[str, Any], figure: str) -> tuple[list[str], list[list[Any]]]:
    """One figure as (columns, rows), for its CSV or JSON download. KeyError: unknown."""
    if figure == "categories":
        cols = ["category", "label", "themes", "reviews", "votes"]
        return cols, [[c[k] for k in cols] for c in insights["categories"]]
    if figure == "category-trend":
        trend = insights["category_trend"]
        rows = [
            [month, s["category"], s["themes"][i], s["votes"][i]]
            for s in trend["series"]
            for i, month in enumerate(trend["months"])
        ]
        return ["month", "category", "themes", "votes"], rows
    follow = insights["follow_through"]
    if figure == "follow-through":
        return list(FOLLOW_KEYS), [[follow["totals"][k] for k in FOLLOW_KEYS]]
    if figure == "follow-through-by-kind":
        cols = ["kind", "label", *FOLLOW_KEYS]
        return cols, [[r[k] for k in cols] for r in follow["by_kind"]]
    if figure == "follow-through-by-owner":
        cols = ["owner_id", "owner", *FOLLOW_KEYS]
        return cols, [[r[k] for k in cols] for r in follow["by_owner"]]
    if figure == "timeline":
        cols = ["review_id", "title", "closed_ms", "first_signal_ms", "signal_to_response_min",
                "signal_to_escalation_min"]  # fmt: skip
        return cols, [[r[k] for k in cols] for r in insights["timeline"]["reviews"]]
    if figure == "timeline-distribution":
        cols = ["bucket", "low_min", "high_min", "response", "escalation"]
        return cols, [[b[k] for k in cols] for b in insights["timeline"]["distribution"]]
    raise KeyError(figure)
