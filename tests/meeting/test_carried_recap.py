"""The open-actions phase in the agenda, and "Open actions reviewed" in the recap."""

from __future__ import annotations

import re

from pycrdt import Doc, Map

from debrief.meeting import agenda as ag
from debrief.meeting import carried as cr
from debrief.meeting import recap as rc
from debrief.meeting.texts import PHASE_HINTS

REVIEW = {"title": "Search latency", "status": "live", "scope": {}}
XSS = "<img src=x onerror=alert(1)>"


def test_open_actions_phase_comes_first_and_survives_a_template_switch() -> None:
    phases = ag.build_agenda("incident", open_actions=True)
    assert phases[0].id == ag.OPEN_ACTIONS_ID and phases[0].id in PHASE_HINTS
    assert [p.id for p in phases[1:]] == [p.id for p in ag.build_agenda("incident")]
    assert [p.id for p in ag.with_open_actions(phases)] == [p.id for p in phases]  # not twice
    switched = ag.keep_open_actions(phases, ag.build_agenda("launch"))
    assert switched[0].id == ag.OPEN_ACTIONS_ID and len(switched) == 8
    assert ag.keep_open_actions(ag.build_agenda(), ag.build_agenda("launch"))[0].id == "opening"


def carried_docs() -> tuple[Doc, Doc]:
    room, recap = Doc(), Doc()
    found = {
        "r1.a": {"what": "Add a timeout", "owner": "Priya N", "due": "2020-01-01",
                 "review_id": "r1", "review_title": "Checkout outage", "status": "open"},
        "r1.b": {"what": XSS, "owner": XSS, "due": "", "review_id": "r1",
                 "review_title": XSS, "status": "in-progress"},
    }  # fmt: skip
    with recap.transaction():
        assert cr.add_entries(recap, found, 1) == ["r1.a", "r1.b"]
        assert cr.add_entries(recap, found, 2) == []  # carried once only
        assert cr.set_note(recap, "r1.a", "Shipped in 812", "Moderator Person")
        assert not cr.set_note(recap, "r9.z", "x", "Moderator Person")
    with room.transaction():
        assert cr.set_statuses(room, {"r1.a": "verified", "r1.b": "in-progress"}, 5)
        assert not cr.set_statuses(room, {"r1.a": "verified"}, 6)  # nothing new: no write
    return room, recap


def test_recap_lists_walked_actions_with_status_at_close_and_note() -> None:
    room, recap = carried_docs()
    statuses = cr.statuses(room.get("meeting", type=Map).to_py() or {})
    rows = cr.for_recap(statuses, cr.entries(recap))
    built = rc.build_recap(REVIEW, [], [], [], [], "", 0, carried=rows)
    assert [(r["what"], r["status"], r["status_carried"], r["note"])
            for r in built["carried_actions"]] == [
        ("Add a timeout", "verified", "open", "Shipped in 812"),
        (XSS, "in-progress", "in-progress", ""),
    ]  # fmt: skip
    markdown = rc.to_markdown(built)
    headings = re.findall(r"^## (.+)$", markdown, flags=re.MULTILINE)
    assert headings.index("Open actions reviewed") == headings.index("Action items") - 1
    assert "Status at close: Verified (was open)" in markdown
    assert "What was said: Shipped in 812" in markdown
    assert not re.search(r"(?<!\\)<img", markdown)
    page = rc.to_html(built)
    assert '<section id="carried_actions"><h2>Open actions reviewed</h2>' in page
    assert "<img" not in page


def test_a_recap_without_carried_actions_keeps_its_shape() -> None:
    built = rc.build_recap(REVIEW, [], [], [], [], "", 0)
    assert "carried_actions" not in built
    assert "Open actions reviewed" not in rc.to_markdown(built)
    assert "carried_actions" not in rc.to_html(built)


def test_readers_take_any_stored_shape() -> None:
    assert cr.for_recap({"x": 3}, {"x": "not a record", "y": {"what": 7, "rank": "z"}}) == [
        {"what": "7", "owner": "", "due": "", "from_review": "", "status_carried": "",
         "status": "", "note": ""}
    ]  # fmt: skip
    assert cr.statuses({"carried": ["nope"]}) == {}
    odd = {"carried_actions": [None, "x", {"what": ["list"], "status": {"a": 1}}]}
    assert "Open actions reviewed" in rc.to_markdown(odd)
    rc.to_html(odd)
