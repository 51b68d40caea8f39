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

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from debrief.learning import rollup
from debrief.learning.rollup import FOLLOW_KEYS, NO_KIND_LABEL, NO_OWNER_LABEL

__all__ = ["FIGURES", "FOLLOW_KEYS", "NO_KIND_LABEL", "NO_OWNER_LABEL", "compute", "table"]

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
    """Every figure of the period [since, until] (days, UTC, both included), from the facts
    of its reviews: a digest per month (learning/rollup.py), merged as stored digests are."""
    by_month: dict[str, list[Mapping[str, Any]]] = {}
    month_of_review: dict[str, str] = {}
    for f in facts:
        month = month_of(float(f.get("closed_ms") or 0))
        by_month.setdefault(month, []).append(f)
        month_of_review[str(f.get("review_id"))] = month
    actions_of: dict[str, list[Mapping[str, Any]]] = {}
    for a in actions:
        month_ = month_of_review.get(str(a.get("review_id")))
        if month_ is not None:
            actions_of.setdefault(month_, []).append(a)
    parts = [(m, rollup.digest(by_month[m], actions_of.get(m, ()))) for m in sorted(by_month)]
    whole = rollup.merge(d for _, d in parts)
    found = rollup.figures(
        whole, parts, timeline(facts), month_list=months(since, until), today=today
    )
    return with_period(found, since, until)


def with_period(found: dict[str, Any], since: date, until: date) -> dict[str, Any]:
    """The figures with their period first, as the API answers them."""
    return {"period": {"since": since.isoformat(), "until": until.isoformat()}, **found}


def timeline(facts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The timeline rows of the reviews whose markers give a figure."""
    return [row for f in facts if (row := rollup.timeline_row(f)) is not None]


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
        rows_ = [r for r in insights["timeline"]["reviews"] if isinstance(r, dict)]
        return cols, [[r.get(k) for k in cols] for r in rows_]  # stored rows: any shape
    if figure == "timeline-distribution":
        cols = ["bucket", "low_min", "high_min", "response", "escalation"]
        return cols, [[b[k] for k in cols] for b in insights["timeline"]["distribution"]]
    raise KeyError(figure)
