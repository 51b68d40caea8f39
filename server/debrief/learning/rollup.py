"""Digests: what a group of closed reviews (a day's, a month's) adds to every insight.

Pure. A digest holds counts that add up, so the figures of a period come from merging the
digests of its months and edge days (teams/rollups.py keeps them beside the facts)
instead of reading every review of the period. learning/insights.py ``compute`` builds
its figures the same way from raw facts, so both paths give the same numbers.

A digest is JSON:
- ``reviews``: how many reviews;
- ``cat``: {category: [themes, reviews with one, votes]} of the contributing factors;
- ``tally``: {"t": totals, "k:<kind>": by kind, "o:<owner key>": by owner}, each a tally
  ``[created, open, in_progress, done, verified, wont_do, past_due, [days to done],
  [due dates]]`` where "done" counts done and verified, and the days to done are whole
  tenths of a day (the median is shown to a tenth). The due dates are those of open and
  in-progress actions: what is overdue depends on the day the figures are read, so it is
  counted then; a date already past when the digest is made stays past, so those are
  only counted (past_due);
- ``names``: {owner key: the name shown (the latest one)};
- ``resp``, ``esc``: [minutes from first signal to response / escalation, in tenths];
- ``rows``: how many reviews have a timeline figure.

Values are kept as lists, not counts per value: merging is a list extend and a median one
sort, both done in C, and a list of small ints is the smaller JSON too.
"""

from __future__ import annotations

from bisect import bisect_left
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
CREATED, OPEN, IN_PROGRESS, DONE, VERIFIED, WONT_DO, PAST_DUE, DAYS, DUES = range(9)
_STATUS_SLOT = {"open": OPEN, "in-progress": IN_PROGRESS, "verified": VERIFIED,
                "wont-do": WONT_DO}  # fmt: skip
TOTALS = "t"


# --- building ---------------------------------------------------------------------------


def digest(
    facts: Iterable[Mapping[str, Any]],
    actions: Iterable[Mapping[str, Any]],
    *,
    past_before: str = "",
) -> dict:
    """The digest of some closed reviews (their facts) and of their followed-up actions
    (rows as learning/facts.py ``unpack`` gives them; actions of other reviews are left
    out). Due dates before ``past_before`` (today, "YYYY-MM-DD", when the digest is
    stored) are kept as past ones."""
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
                    found[key].append(round(row[name] * 10))
    for a in actions:
        review_id = str(a.get("review_id"))
        if review_id in closed:
            _add_action(found, a, closed[review_id], past_before)
    return found


def _empty() -> dict[str, Any]:
    return {"reviews": 0, "cat": {}, "tally": {}, "names": {}, "resp": [], "esc": [], "rows": 0}


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


def _add_action(found: dict[str, Any], a: Mapping[str, Any], closed_ms: int, past: str) -> None:
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
                tally[DAYS].append(round(days * 10))
        elif status in ("open", "in-progress") and len(due) == 10:
            if due < past:
                tally[PAST_DUE] += 1
            else:
                tally[DUES].append(due)


def _tally() -> list[Any]:
    return [0, 0, 0, 0, 0, 0, 0, [], []]


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
    """One digest of several, given oldest first (an owner's latest name is shown). A stored
    digest of the wrong shape adds what it can until the first wrong part, and no more."""
    found = _empty()
    for d in digests:
        try:
            _merge_one(found, d)
        except (TypeError, ValueError, AttributeError, IndexError, KeyError):
            found["bad"] = found.get("bad", 0) + 1
    return found


def _merge_one(found: dict[str, Any], d: Mapping[str, Any]) -> None:
    # Numbers are added with +, lists extended only when they are lists: a value of the
    # wrong type raises TypeError here, before it can reach a figure.
    found["reviews"] += d["reviews"]
    found["rows"] += d["rows"]
    cat = found["cat"]
    for c, counts in d["cat"].items():
        mine = cat.get(c) or cat.setdefault(c, [0, 0, 0])
        mine[0] += counts[0]
        mine[1] += counts[1]
        mine[2] += counts[2]
    tallies = found["tally"]
    for group, tally in d["tally"].items():
        mine = tallies.get(group) or tallies.setdefault(group, _tally())
        for i in range(DAYS):
            mine[i] += tally[i]
        mine[DAYS] += _list(tally[DAYS])
        mine[DUES] += _list(tally[DUES])
    found["names"].update((k, str(n)) for k, n in d["names"].items())
    found["resp"] += _list(d["resp"])
    found["esc"] += _list(d["esc"])


def sorted_lists(merged: dict[str, Any]) -> dict[str, Any]:
    """A merged digest with its value lists sorted in place (one that is kept and merged
    again: the figures sort its lists with the few values added, a nearly sorted run)."""
    for tally in merged["tally"].values():
        tally[DAYS] = _numbers(tally[DAYS])
    merged["resp"], merged["esc"] = _numbers(merged["resp"]), _numbers(merged["esc"])
    return merged


def _list(value: Any) -> list[Any]:
    if type(value) is not list:
        raise TypeError("not a list")
    return value


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _at(values: Any, i: int) -> Any:
    return values[i] if isinstance(values, list) and len(values) > i else None


# --- figures ------------------------------------------------------------------------------


def figures(
    whole: Mapping[str, Any],
    parts: Sequence[tuple[str, Mapping[str, Any]]],
    rows: list[dict[str, Any]],
    *,
    month_list: list[str],
    today: date,
) -> dict[str, Any]:
    """The figures of a period: ``whole`` is the merge of its digests, ``parts`` are those
    digests each with its month ("YYYY-MM"; only their ``cat`` is read, for the trend),
    ``rows`` the timeline rows to show (all or the latest: the distribution counts every
    review). Returns categories, category_trend, follow_through and timeline
    (learning/insights.py adds the period)."""
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
    late = sum(1 for due in tally[DUES] if isinstance(due, str) and due < today)
    return {
        "created": tally[CREATED], "open": tally[OPEN], "in_progress": tally[IN_PROGRESS],
        "done": done, "verified": verified, "wont_do": tally[WONT_DO],
        "overdue": tally[PAST_DUE] + late,
        "median_days_to_done": round(days / 10, 1) if days is not None else None,
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
    resp, esc = _numbers(whole["resp"]), _numbers(whole["esc"])
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


def _numbers(values: list[Any]) -> list[float]:
    """The values, sorted (a stored value that is not a number is left out)."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(v for v in values if isinstance(v, int | float) and not isinstance(v, bool))


def _between(tenths: list[float], low: float, high: float) -> int:
    """How many of the sorted values (tenths of a minute) are in [low, high) minutes."""
    return bisect_left(tenths, high * 10) - bisect_left(tenths, low * 10)


def _summary(tenths: list[float]) -> dict[str, Any]:
    median = _median(tenths)
    return {
        "count": len(tenths),
        "median_min": round(median / 10, 1) if median is not None else None,
    }


def _median(values: list[Any]) -> float | None:
    """The median (the mean of the middle two when their number is even)."""
    ordered = _numbers(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2
