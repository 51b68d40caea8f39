"""Insights of a seeded team match figures worked out by hand (see the comments)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from debrief.learning import insights as ins

DAY = 86_400_000
MIN = 60_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


C1, C2, C3 = ms("2026-01-10T10:00:00"), ms("2026-02-15T10:00:00"), ms("2026-02-20T10:00:00")
C4 = ms("2026-04-05T10:00:00")  # closed after the period


def theme(n: int, category: str, votes: int, section: str = "contributing-factors") -> dict:
    return {"id": f"cf{n}", "title": f"theme {n}", "category": category, "votes": votes,
            "section": section}  # fmt: skip


def facts(review_id: str, closed: int, themes: list[dict], markers: dict | None = None) -> dict:
    found = {"first_signal_ms": None, "first_response_ms": None, "escalation_ms": None}
    return {"review_id": review_id, "title": review_id.upper(), "closed_ms": closed,
            "kind": "incident", "themes": themes, "actions": [],
            "markers": found | (markers or {}), "window_start": "", "window_end": ""}  # fmt: skip


SIGNAL1, SIGNAL2 = ms("2026-01-09T09:00:00"), ms("2026-02-14T22:00:00")
FACTS = [
    facts("r1", C1, [theme(1, "process-gap", 4), theme(2, "tooling", 1),
                     {**theme(3, "", 2, "worked-well"), "id": "ww1"}],
          {"first_signal_ms": SIGNAL1, "first_response_ms": SIGNAL1 + 10 * MIN,
           "escalation_ms": SIGNAL1 + 90 * MIN}),
    facts("r2", C2, [theme(1, "process-gap", 3), theme(2, "process-gap", 2),
                     theme(3, "role-ambiguity", 0)],
          {"first_signal_ms": SIGNAL2, "first_response_ms": SIGNAL2 + 45 * MIN}),
    facts("r3", C3, [theme(1, "tooling", 5)],
          {"first_response_ms": C3}),  # no first signal: no timeline figure
]  # fmt: skip
OUTSIDE = facts("r4", C4, [theme(1, "process-gap", 9)])


def act(
    gid: str,
    kind: str,
    owner: str,
    owner_id: str,
    status: str,
    due: str = "",
    done_after_days: float | None = None,
) -> dict[str, Any]:
    review = gid.split(".")[0]
    closed = {"r1": C1, "r2": C2, "r3": C3, "r4": C4}[review]
    done = None if done_after_days is None else int(closed + done_after_days * DAY)
    return {"gid": gid, "review_id": review, "kind": kind, "owner": owner,
            "owner_id": owner_id, "due": due, "status": status, "done_ms": done}  # fmt: skip


ACTIONS = [
    act("r1.a", "monitoring", "Priya N", "pe_p", "verified", "2026-01-20", 4),
    act("r1.b", "preventive-control", "Priya N", "pe_p", "done", "2026-01-30", 10),
    act("r1.c", "monitoring", "Omar", "pe_o", "open", "2026-03-01"),  # overdue
    act("r2.d", "immediate-remediation", "Omar", "pe_o", "in-progress", "2026-05-01"),
    act("r2.e", "documentation-ownership", "Lee", "", "wont-do", "2026-03-01"),
    act("r2.f", "", "", "", "open"),  # no due date: never overdue
    act("r3.g", "monitoring", "Priya N", "pe_p", "verified", "2026-03-01", 2),
    act("r4.h", "monitoring", "Priya N", "pe_p", "verified", "2026-05-01", 1),  # outside
]  # fmt: skip
SINCE, UNTIL, TODAY = date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 10)


@pytest.fixture
def found() -> dict[str, Any]:
    # the API passes only the period's facts; actions of other reviews are ignored anyway
    return ins.compute(FACTS, ACTIONS, since=SINCE, until=UNTIL, today=TODAY)


def test_categories(found: dict[str, Any]) -> None:
    rows = {c["category"]: (c["themes"], c["reviews"], c["votes"]) for c in found["categories"]}
    assert rows == {
        "process-gap": (3, 2, 4 + 3 + 2),
        "role-ambiguity": (1, 1, 0),
        "timing-pressure": (0, 0, 0),
        "information-gap": (0, 0, 0),
        "tooling": (2, 2, 1 + 5),
        "other": (0, 0, 0),
    }
    assert found["reviews"] == 3


def test_category_trend_per_month(found: dict[str, Any]) -> None:
    trend = found["category_trend"]
    assert trend["months"] == ["2026-01", "2026-02", "2026-03"]
    series = {s["category"]: (s["themes"], s["votes"]) for s in trend["series"]}
    assert series["process-gap"] == ([1, 2, 0], [4, 5, 0])
    assert series["tooling"] == ([1, 1, 0], [1, 5, 0])
    assert series["role-ambiguity"] == ([0, 1, 0], [0, 0, 0])
    assert series["other"] == ([0, 0, 0], [0, 0, 0])


def row(**numbers: Any) -> dict[str, Any]:
    base = dict.fromkeys(ins.FOLLOW_KEYS, 0) | {"median_days_to_done": None,
                                                "verification_rate": None}  # fmt: skip
    return base | numbers


def test_follow_through_totals(found: dict[str, Any]) -> None:
    # 7 actions in the period (r4.h is not); done = done or verified = a, b, g;
    # days to done 4, 10, 2 -> median 4; verified 2 of 3 done
    assert found["follow_through"]["totals"] == row(
        created=7, open=2, in_progress=1, done=3, verified=2, wont_do=1, overdue=1,
        median_days_to_done=4.0, verification_rate=0.667)  # fmt: skip


def test_follow_through_by_kind(found: dict[str, Any]) -> None:
    by_kind = {
        r["kind"]: {k: r[k] for k in ins.FOLLOW_KEYS} for r in found["follow_through"]["by_kind"]
    }
    assert list(by_kind) == ["immediate-remediation", "preventive-control", "monitoring",
                             "documentation-ownership", ""]  # fmt: skip
    assert by_kind["monitoring"] == row(created=3, open=1, done=2, verified=2, overdue=1,
                                        median_days_to_done=3.0, verification_rate=1.0)  # fmt: skip
    assert by_kind["preventive-control"] == row(created=1, done=1, median_days_to_done=10.0,
                                                verification_rate=0.0)  # fmt: skip
    assert by_kind["immediate-remediation"] == row(created=1, in_progress=1)
    assert by_kind["documentation-ownership"] == row(created=1, wont_do=1)
    assert by_kind[""] == row(created=1, open=1)
    labels = [r["label"] for r in found["follow_through"]["by_kind"]]
    assert labels[-1] == ins.NO_KIND_LABEL and labels[2] == "Monitoring"


def test_follow_through_by_owner(found: dict[str, Any]) -> None:
    owners = found["follow_through"]["by_owner"]
    assert [(r["owner"], r["owner_id"]) for r in owners] == [
        ("Priya N", "pe_p"),
        ("Omar", "pe_o"),
        ("Lee", ""),
        (ins.NO_OWNER_LABEL, ""),
    ]
    numbers = [{k: r[k] for k in ins.FOLLOW_KEYS} for r in owners]
    assert numbers[0] == row(created=3, done=3, verified=2, median_days_to_done=4.0,
                             verification_rate=0.667)  # fmt: skip
    assert numbers[1] == row(created=2, open=1, in_progress=1, overdue=1)
    assert numbers[2] == row(created=1, wont_do=1)
    assert numbers[3] == row(created=1, open=1)


def test_timeline_per_review_and_distribution(found: dict[str, Any]) -> None:
    timeline = found["timeline"]
    assert [
        (r["review_id"], r["signal_to_response_min"], r["signal_to_escalation_min"])
        for r in timeline["reviews"]
    ] == [("r1", 10.0, 90.0), ("r2", 45.0, None)]
    buckets = {b["bucket"]: (b["response"], b["escalation"]) for b in timeline["distribution"]}
    assert buckets["under 15 min"] == (1, 0)
    assert buckets["30-60 min"] == (1, 0)
    assert buckets["1-2 h"] == (0, 1)
    assert sum(r for r, _ in buckets.values()) == 2 and sum(e for _, e in buckets.values()) == 1
    assert timeline["response"] == {"count": 2, "median_min": 27.5}
    assert timeline["escalation"] == {"count": 1, "median_min": 90.0}


def test_a_response_before_the_signal_is_no_figure() -> None:
    odd = facts("r9", C1, [], {"first_signal_ms": C1, "first_response_ms": C1 - MIN})
    assert ins.timeline([odd]) == []


def test_an_empty_period_has_every_figure_at_zero() -> None:
    empty = ins.compute([], ACTIONS, since=SINCE, until=UNTIL, today=TODAY)
    assert empty["reviews"] == 0 and empty["follow_through"]["totals"] == row()
    assert all(c["themes"] == 0 for c in empty["categories"])
    assert empty["timeline"]["reviews"] == []


def test_every_figure_has_a_table(found: dict[str, Any]) -> None:
    for figure in ins.FIGURES:
        columns, rows = ins.table(found, figure)
        assert columns and all(len(r) == len(columns) for r in rows), figure
    columns, rows = ins.table(found, "category-trend")
    assert ["2026-02", "process-gap", 2, 5] in rows and columns[0] == "month"
    with pytest.raises(KeyError):
        ins.table(found, "nope")
