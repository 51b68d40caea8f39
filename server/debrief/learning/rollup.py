"""Digests: what a group of closed reviews (a day's, a month's) adds to every insight.

Pure. A digest holds counts that add up, so the figures of a period come from merging the
digests of its months and edge days (teams/rollups.py keeps them beside the facts)
instead of reading every review of the period. learning/insights.py ``compute`` builds
its figures the same way from raw facts, so both paths give the same numbers.

A digest is JSON:
- ``reviews``: how many reviews;
- ``cat``: {category: [themes, reviews with one, votes]} of the contributing factors;
- ``tally``: {"t": totals, "k:<kind>": by kind, "o:<owner key>": by owner}, each a tally
  ``[created, open, in_progress, done, verified, wont_do, {days to done: n},
  {due date: n}]`` where "done" counts done and verified, the days are kept to 1/1000 of
  a day, and the due dates are those of open and in-progress actions (what is overdue
  depends on the day the figures are read, so it is counted then);
- ``names``: {owner key: the name shown (the latest one)};
- ``resp``, ``esc``: {minutes from first signal to response / escalation: n};
- ``rows``: how many reviews have a timeline figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from debrief.meeting.texts import ACTION_KIND_LABELS, THEME_CATEGORY_LABELS

DAY_MS = 86_400_000
MINUTE_MS = 60_000
CATEGORIES = tuple(THEME_CATEGORY_LABELS)
KINDS = tuple(ACTION_KIND_LABELS)
NO_KIND_LABEL = "No kind given"
NO_OWNER_LABEL = "No owner"
FOLLOW_KEYS = (
    "created", "open", "in_progress", "done", "verified", "wont_do", "overdue",
    "median_days_to_done", "verification_rate",
)  # fmt: skip
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
# Tally slots; a status counts in its slot ("done" and "verified" in DONE too).
CREATED, OPEN, IN_PROGRESS, DONE, VERIFIED, WONT_DO, DAYS, DUES = range(8)
_STATUS_SLOT = {"open": OPEN, "in-progress": IN_PROGRESS, "verified": VERIFIED,
                "wont-do": WONT_DO}  # fmt: skip
TOTALS = "t"


# --- building ---------------------------------------------------------------------------


def digest(facts: Iterable[Mapping[str, Any]], actions: Iterable[Mapping[str, Any]]) -> dict:
    """The digest of some closed reviews (their facts) and of their followed-up actions
    (rows as learning/facts.py ``unpack`` gives them; actions of other reviews are left
    out)."""
    found: dict[str, Any] = _empty()
    closed: dict[str, int] = {}
    for f in facts:
        closed[str(f.get("review_id"))] = int(f.get("closed_ms") or 0)
        found["reviews"] += 1
        _add_categories(found["cat"], f)
        row = timeline_row(f)
        if row is not None:
            found["rows"] += 1
            for key, name in (("resp", "signal_to_response_min"),
                              ("esc", "signal_to_escalation_min")):  # fmt: skip
                if row[name] is not None:
                    _bump(found[key], _key(row[name]))
    for a in actions:
        review_id = str(a.get("review_id"))
        if review_id in closed:
            _add_action(found, a, closed[review_id])
    return found


def _empty() -> dict[str, Any]:
    return {"reviews": 0, "cat": {}, "tally": {}, "names": {}, "resp": {}, "esc": {}, "rows": 0}


def _add_categories(cat: dict[str, list[int]], facts: Mapping[str, Any]) -> None:
    seen: set[str] = set()
    for t in facts.get("themes") or []:
        if t.get("section") != "contributing-factors":
            continue
        c = str(t.get("category") or "other")
        counts = cat.setdefault(c, [0, 0, 0])
        counts[0] += 1
        counts[2] += int(t.get("votes") or 0)
        if c not in seen:
            seen.add(c)
            counts[1] += 1


def _add_action(found: dict[str, Any], a: Mapping[str, Any], closed_ms: int) -> None:
    status, done_ms = str(a.get("status") or ""), a.get("done_ms")
    days = None
    if isinstance(done_ms, int | float) and status in ("done", "verified"):
        days = max(0.0, (done_ms - closed_ms) / DAY_MS)
    owner_id = str(a.get("owner_id") or "")
    owner = " ".join(str(a.get("owner") or "").split())
    key = owner_id or (f"name:{owner.casefold()}" if owner else "")
    found["names"][key] = owner or NO_OWNER_LABEL  # the latest spelling is shown
    due = str(a.get("due") or "")
    tallies = found["tally"]
    for group in (TOTALS, f"k:{a.get('kind') or ''}", f"o:{key}"):
        tally = tallies.get(group) or tallies.setdefault(group, _tally())
        tally[CREATED] += 1
        slot = _STATUS_SLOT.get(status)
        if slot is not None:
            tally[slot] += 1
        if status in ("done", "verified"):
            tally[DONE] += 1
            if days is not None:
                _bump(tally[DAYS], f"{days:.3f}")
        elif status in ("open", "in-progress") and len(due) == 10:
            _bump(tally[DUES], due)


def _tally() -> list[Any]:
    return [0, 0, 0, 0, 0, 0, {}, {}]


def _bump(counter: dict[str, int], key: str, n: int = 1) -> None:
    counter[key] = counter.get(key, 0) + n


def _key(value: float) -> str:
    return repr(float(value))


def timeline_row(facts: Mapping[str, Any]) -> dict[str, Any] | None:
    """A review's timeline figures (None when its markers give neither)."""
    m = facts.get("markers") or {}
    signal = m.get("first_signal_ms")
    response = _minutes(signal, m.get("first_response_ms"))
    escalation = _minutes(signal, m.get("escalation_ms"))
    if response is None and escalation is None:
        return None
    return {
        "review_id": facts.get("review_id"), "title": facts.get("title"),
        "closed_ms": facts.get("closed_ms"), "first_signal_ms": signal,
        "signal_to_response_min": response, "signal_to_escalation_min": escalation,
    }  # fmt: skip


def _minutes(start: Any, end: Any) -> float | None:
    # A time before the first signal is a slip of the timeline, not a figure.
    if not isinstance(start, int | float) or not isinstance(end, int | float) or end < start:
        return None
    return round((end - start) / MINUTE_MS, 1)


# --- merging ----------------------------------------------------------------------------


def merge(digests: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One digest of several, given oldest first (an owner's latest name is shown); a
    stored digest that is not a dict counts as empty."""
    found = _empty()
    for d in digests:
        if not isinstance(d, Mapping):
            continue
        found["reviews"] += _int(d.get("reviews"))
        found["rows"] += _int(d.get("rows"))
        for c, counts in _dict(d.get("cat")).items():
            mine = found["cat"].setdefault(c, [0, 0, 0])
            for i in range(3):
                mine[i] += _int(_at(counts, i))
        for group, tally in _dict(d.get("tally")).items():
            mine = found["tally"].get(group) or found["tally"].setdefault(group, _tally())
            for i in range(DAYS):
                mine[i] += _int(_at(tally, i))
            for i in (DAYS, DUES):
                for k, n in _dict(_at(tally, i)).items():
                    _bump(mine[i], k, _int(n))
        found["names"].update((k, str(n)) for k, n in _dict(d.get("names")).items())
        for key in ("resp", "esc"):
            for k, n in _dict(d.get(key)).items():
                _bump(found[key], k, _int(n))
    return found


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _at(values: Any, i: int) -> Any:
    return values[i] if isinstance(values, list) and len(values) > i else None


# --- figures ------------------------------------------------------------------------------


def figures(
    parts: Sequence[tuple[str, Mapping[str, Any]]],
    rows: list[dict[str, Any]],
    *,
    month_list: list[str],
    today: date,
) -> dict[str, Any]:
    """The figures of a period from its digests, each with its month ("YYYY-MM"), and the
    timeline rows to show (all or the latest: the distribution counts every review).
    Returns categories, category_trend, follow_through and timeline (learning/insights.py
    adds the period)."""
    whole = merge(d for _, d in parts)
    return {
        "reviews": whole["reviews"],
        "categories": _categories(whole["cat"]),
        "category_trend": _trend(parts, month_list),
        "follow_through": _follow_through(whole, today.isoformat()),
        "timeline": _timeline(whole, rows),
    }


def _category_order(found: Iterable[str]) -> list[str]:
    return list(CATEGORIES) + sorted(set(found) - set(CATEGORIES))


def _label(category: str) -> str:
    return THEME_CATEGORY_LABELS.get(category) or category.replace("-", " ").capitalize()


def _categories(cat: Mapping[str, list[int]]) -> list[dict[str, Any]]:
    empty = [0, 0, 0]
    return [
        {"category": c, "label": _label(c), "themes": cat.get(c, empty)[0],
         "reviews": cat.get(c, empty)[1], "votes": cat.get(c, empty)[2]}
        for c in _category_order(cat)
    ]  # fmt: skip


def _trend(parts: Sequence[tuple[str, Mapping[str, Any]]], month_list: list[str]) -> dict:
    at = {m: i for i, m in enumerate(month_list)}
    themes: dict[str, list[int]] = {}
    votes: dict[str, list[int]] = {}
    for month, d in parts:
        i = at.get(month)
        if i is None:
            continue
        for c, counts in _dict(d.get("cat")).items():
            themes.setdefault(c, [0] * len(month_list))[i] += _int(_at(counts, 0))
            votes.setdefault(c, [0] * len(month_list))[i] += _int(_at(counts, 2))
    empty = [0] * len(month_list)
    series = [
        {"category": c, "label": _label(c), "themes": themes.get(c, empty),
         "votes": votes.get(c, empty)}
        for c in _category_order(themes)
    ]  # fmt: skip
    return {"months": month_list, "series": series}


def _row(tally: list[Any], today: str) -> dict[str, Any]:
    done, verified = tally[DONE], tally[VERIFIED]
    days = _median(tally[DAYS])
    return {
        "created": tally[CREATED], "open": tally[OPEN], "in_progress": tally[IN_PROGRESS],
        "done": done, "verified": verified, "wont_do": tally[WONT_DO],
        "overdue": sum(n for due, n in tally[DUES].items() if due < today),
        "median_days_to_done": round(days, 1) if days is not None else None,
        "verification_rate": round(verified / done, 3) if done else None,
    }  # fmt: skip


def _follow_through(whole: Mapping[str, Any], today: str) -> dict[str, Any]:
    tallies, names = whole["tally"], whole["names"]
    kinds = {g[2:]: t for g, t in tallies.items() if g.startswith("k:")}
    owners = {g[2:]: t for g, t in tallies.items() if g.startswith("o:")}
    kind_order = [k for k in KINDS if k in kinds] + sorted(set(kinds) - set(KINDS))
    owner_order = sorted(
        owners, key=lambda k: (-owners[k][CREATED], names.get(k, "").casefold(), k)
    )
    return {
        "totals": _row(tallies.get(TOTALS) or _tally(), today),
        "by_kind": [
            {"kind": k, "label": ACTION_KIND_LABELS.get(k, k) or NO_KIND_LABEL,
             **_row(kinds[k], today)}
            for k in kind_order
        ],
        "by_owner": [
            {"owner_id": "" if k.startswith("name:") else k,
             "owner": names.get(k) or NO_OWNER_LABEL, **_row(owners[k], today)}
            for k in owner_order
        ],
    }  # fmt: skip


def _timeline(whole: Mapping[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    resp, esc = whole["resp"], whole["esc"]
    buckets = [
        {"bucket": label, "low_min": low, "high_min": None if high == float("inf") else high,
         "response": _between(resp, low, high), "escalation": _between(esc, low, high)}
        for label, low, high in BUCKETS
    ]  # fmt: skip
    return {
        "reviews": rows,
        "reviews_total": whole["rows"],
        "distribution": buckets,
        "response": _summary(resp),
        "escalation": _summary(esc),
    }


def _between(counter: Mapping[str, int], low: float, high: float) -> int:
    return sum(n for k, n in counter.items() if low <= _float(k) < high)


def _summary(counter: Mapping[str, int]) -> dict[str, Any]:
    median = _median(counter)
    return {
        "count": sum(counter.values()),
        "median_min": round(median, 1) if median is not None else None,
    }


def _float(key: str) -> float:
    try:
        return float(key)
    except ValueError:
        return float("nan")  # compares false with everything: counted nowhere


def _median(counter: Mapping[str, int]) -> float | None:
    """The median of values kept as {value: how many} (the mean of the middle two when
    their number is even)."""
    values = sorted((v, n) for k, n in counter.items() if (v := _float(k)) == v and n > 0)
    total = sum(n for _, n in values)
    if not total:
        return None
    wanted = (total - 1) // 2, total // 2  # 0-based places of the middle value(s)
    found: list[float] = []
    seen = 0
    for value, n in values:
        while len(found) < 2 and seen <= wanted[len(found)] < seen + n:
            found.append(value)
        seen += n
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2
