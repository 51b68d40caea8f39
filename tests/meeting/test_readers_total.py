"""Readers are total: whatever a client put into `timeline` or `recap` (any JSON value,
nested maps, huge strings, NaN), the recap, every export, the lint and the action list
render without raising (issue 10, item 6)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text

from debrief.http.actions_api import action_view
from debrief.meeting import closing, lint, review
from debrief.meeting import recap as rc

FIELDS_EVENT = ("id", "time", "text", "source", "link", "markers", "created_ms")
FIELDS_ACTION = ("id", "what", "owner", "due", "verify", "kind", "created_ms")
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["first-signal", "<img src=x onerror=alert(1)>", "## heading",
                     "javascript:alert(1)", "1. x", "x" * 50_000]),
)  # fmt: skip
JUNK = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip


def as_shared(value: Any, nested: bool) -> Any:
    """`value` as a Yjs Any value, or (nested) with its maps and lists as shared types."""
    if not nested:
        return value
    if isinstance(value, dict):
        return Map({k: as_shared(v, True) for k, v in value.items()})
    if isinstance(value, list):
        return Array([as_shared(v, True) for v in value])
    if isinstance(value, str) and len(value) < 40:
        return Text(value)
    return value


@st.composite
def entry(draw: st.DrawFn, fields: tuple[str, ...]) -> tuple[Any, bool]:
    """A map entry: a record with junk in some documented fields, or plain junk."""
    nested = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        return draw(JUNK), nested
    record = {f: draw(JUNK) for f in draw(st.lists(st.sampled_from(fields), unique=True))}
    return record, nested


def fill(root: Map, items: list[tuple[Any, bool]]) -> None:
    for index, (value, nested) in enumerate(items):
        shared = as_shared(value, nested)
        root[f"k{index}"] = Map(shared) if isinstance(value, dict) and not nested else shared


def docs(events: list[tuple[Any, bool]], actions: list[tuple[Any, bool]]) -> tuple[Doc, Doc]:
    timeline, recap = Doc(), Doc()
    # Through an update, as the server receives them: what a client could really write.
    source_t, source_r = Doc(), Doc()
    source_t["events"] = Map()
    source_r["actions"] = Map()
    source_r["text"] = Text("Scribe <b>notes</b>\n## not a heading")
    fill(source_t.get("events", type=Map), events)
    fill(source_r.get("actions", type=Map), actions)
    timeline.apply_update(source_t.get_update())
    recap.apply_update(source_r.get_update())
    return timeline, recap


ROOM = {"meeting": {"signoffs": 1}, "notes": {}, "themes": {}, "votes": {}, "voting": {}}


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(entry(FIELDS_EVENT), max_size=6),
    actions=st.lists(entry(FIELDS_ACTION), max_size=6),
)
def test_any_doc_content_renders(
    events: list[tuple[Any, bool]], actions: list[tuple[Any, bool]]
) -> None:
    timeline_doc, recap_doc = docs(events, actions)
    rv = {**review.new_review("Outage"), "id": "r1", "status": "live"}
    timeline = closing._read_timeline(timeline_doc)
    recap_data = closing._read_recap(recap_doc)
    recap = closing.assemble(rv, ROOM, timeline, recap_data)
    final = closing.frozen_checked(rc.finalize({**recap, "audit": []}, 1, "2025-01-01T00:00:00Z"))
    for built in (recap, final):
        json.loads(json.dumps(built, allow_nan=False))
        assert isinstance(rc.to_markdown(built), str)
        assert isinstance(rc.to_html(built), str)
        assert json.loads(rc.to_json(built))["format"] == rc.FORMAT
    listed = [action_view(a) for a in closing.read_actions(recap_doc)]
    json.dumps(listed, allow_nan=False)
    problems = lint.lint_actions(recap_data["actions"], date(2025, 1, 1))
    json.dumps(lint.problems_to_dict(problems), allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(recap=st.dictionaries(st.sampled_from([k for k, _ in rc.SECTIONS] + [
    "title", "status", "version", "signoffs", "close_reason", "audit"]), JUNK))
def test_renderers_take_any_frozen_recap(recap: dict[str, Any]) -> None:
    """A frozen version stored by an older release may have any shape; it still renders."""
    assert isinstance(rc.to_markdown(recap), str)
    assert isinstance(rc.to_html(recap), str)


def test_the_reported_shapes() -> None:
    """The cases from the issue: markers 5 and [{}], mixed action types, string events."""
    timeline_doc, recap_doc = docs(
        [({"time": "2025-01-01T10:00:00Z", "text": "a", "markers": 5}, False),
         ({"time": "2025-01-01T11:00:00Z", "text": "b", "markers": [{}]}, False),
         ({"time": "2025-01-01T12:00:00Z", "text": 7, "markers": ["first-signal", 3]}, True),
         ("an event that is a string", False)],
        [({"what": 5, "owner": ["x"], "due": {"d": 1}, "verify": None, "kind": 1.5}, False),
         ({"what": "plain", "owner": "Ana", "created_ms": "soon"}, False),
         (42, False)],
    )  # fmt: skip
    timeline = closing._read_timeline(timeline_doc)
    rv = {**review.new_review("Outage"), "id": "r1", "status": "live"}
    recap = closing.assemble(rv, ROOM, timeline, closing._read_recap(recap_doc))
    assert recap["timeline"] == [{"time": "2025-01-01T12:00:00Z", "text": "7", "source": "",
                                  "link": "", "markers": ["first-signal"]}]  # fmt: skip
    actions = closing.read_actions(recap_doc)
    assert [a["what"] for a in actions] == ["5", "plain"]
    assert actions[0]["owner"] == "" and actions[0]["kind"] == "1.5"
