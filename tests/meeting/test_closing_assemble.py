"""The recap built from plain doc data, as the server reads it from the three docs."""

from typing import Any

from debrief.meeting import closing, review
from debrief.meeting.notes import own_view, public_note


def room(votes: dict[str, int], voting: dict[str, Any]) -> dict[str, Any]:
    return {
        "meeting": {"signoffs": 2.0},
        "notes": {
            "n1": {"id": "n1", "text": "Dead runbook link", "kind": "contributing-factor",
                   "theme_id": "t1", "prompt": None},
            "n2": {"id": "n2", "text": "Quick rollback", "kind": "worked-well",
                   "theme_id": None, "prompt": None},
        },
        "themes": {"t1": {"id": "t1", "title": "Stale runbooks", "category": "process-gap",
                          "section": "contributing-factor", "absorbed": []}},
        "votes": votes,
        "voting": voting,
    }  # fmt: skip


RECAP_DOC = {"text": "Scribe notes", "followups": "One\n\n Two \n", "actions": []}


def test_sections_and_follow_ups() -> None:
    rv = {**review.new_review("Outage"), "id": "r1"}
    recap = closing.assemble(rv, room({"t1": 3}, {}), [], RECAP_DOC)
    assert recap["signoffs"] == 2
    assert recap["contributing_factors"][0]["themes"][0] == {
        "title": "Stale runbooks", "votes": 3, "notes": ["Dead runbook link"]}  # fmt: skip
    assert recap["worked_well"][0]["title"] == "Quick rollback"
    assert recap["follow_ups"] == ["One", "Two"]
    assert recap["scribe_text"] == "Scribe notes"


def test_hidden_counts_stay_hidden_in_the_draft() -> None:
    rv = {**review.new_review("Outage"), "id": "r1"}
    open_ = {"contributing-factor": {"status": "open"}}
    recap = closing.assemble(rv, room({}, open_), [], RECAP_DOC)
    assert recap["contributing_factors"][0]["themes"][0]["votes"] is None
    closed = {"contributing-factor": {"status": "closed"}}
    recap = closing.assemble(rv, room({}, closed), [], RECAP_DOC)
    assert recap["contributing_factors"][0]["themes"][0]["votes"] == 0


def test_public_note_never_carries_the_owner() -> None:
    record = {"id": "n1", "owner": "p_secret", "author_name": "Ana", "text": "t",
              "kind": "other", "prompt": None, "anonymous": True, "created_ms": 5,
              "revealed": True, "review_id": "r"}  # fmt: skip
    shown = public_note(record)
    assert set(shown) == {"id", "text", "kind", "theme_id", "prompt"}
    assert "p_secret" not in str(shown) and "Ana" not in str(shown)
    assert public_note({**record, "anonymous": False})["author"] == "Ana"
    assert own_view(record)["yours"] is True and "owner" not in own_view(record)
