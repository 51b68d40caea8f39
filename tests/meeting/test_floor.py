import pytest

from debrief.meeting import floor
from debrief.meeting.errors import Conflict, NotFound

SESSIONS = [
    {"participant_id": "p1", "name": "Ana", "role": "moderator", "created_ms": 1},
    {"participant_id": "p2", "name": "", "role": "participant", "created_ms": 2},
    {"participant_id": "p3", "name": "Obs", "role": "observer", "created_ms": 3},
    {"participant_id": "p2", "name": "again", "role": "participant", "created_ms": 4},
    {"participant_id": "p4", "name": "Lee", "role": "scribe", "created_ms": 0},
]


def test_attendees_are_unique_in_join_order_without_observers() -> None:
    people = floor.attendees(SESSIONS, ["p1"])
    assert [p["participant_id"] for p in people] == ["p4", "p1", "p2"]
    assert people[2]["name"] == floor.UNNAMED
    assert [p["leader"] for p in people] == [False, True, False]


def test_leaders_speak_last_only_when_set() -> None:
    people = floor.attendees(SESSIONS, ["p1"])
    assert [p["participant_id"] for p in floor.speaking_order(people, True)] == ["p4", "p2", "p1"]
    assert [p["participant_id"] for p in floor.speaking_order(people, False)] == ["p4", "p1", "p2"]


def test_round_robin_advances_skips_and_ends() -> None:
    order = floor.speaking_order(floor.attendees(SESSIONS, []), False)
    state = floor.start_round(order)
    assert state["current"]["participant_id"] == "p4"
    state = floor.advance(state, skip=True)
    assert state["skipped"] == ["p4"] and state["current"]["participant_id"] == "p1"
    state = floor.advance(floor.advance(state))
    assert state["active"] is False and state["current"] is None
    with pytest.raises(Conflict):
        floor.advance(state)
    with pytest.raises(Conflict):
        floor.end_round(state)
    with pytest.raises(Conflict):
        floor.start_round([])


def test_hands_queue_in_order() -> None:
    hands = floor.raise_hand([], "p1", "Ana", 10)
    hands = floor.raise_hand(hands, "p2", "", 11)
    assert [h["participant_id"] for h in hands] == ["p1", "p2"]
    with pytest.raises(Conflict):
        floor.raise_hand(hands, "p1", "Ana", 12)
    assert floor.lower_hand(hands, "p1") == [hands[1]]
    with pytest.raises(NotFound):
        floor.lower_hand([], "p1")
