"""The server's own awareness entry (protocol/awareness.py SERVER_CLIENT_ID), without
sockets: only the server sets it, a higher clock replaces it, and it is no presence."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from debrief.protocol.awareness import (
    SERVER_CLIENT_ID,
    AwarenessEntry,
    AwarenessRegistry,
    PresenceLimits,
)

ALICE = {"name": "Alice", "role": "participant", "id": "p_alice"}
COUNTS = {"note_counts": {"worked-well": 2}}


def test_a_higher_clock_replaces_the_shown_state_and_a_lower_one_changes_nothing() -> None:
    reg = AwarenessRegistry()
    assert reg.server_state() is None
    assert reg.set_server(COUNTS, 5) == AwarenessEntry(SERVER_CLIENT_ID, 5, COUNTS)
    assert reg.set_server({"note_counts": {}}, 5) is None  # the same clock: already shown
    assert reg.set_server({"note_counts": {}}, 4) is None  # an older change, arriving late
    assert reg.server_state() == AwarenessEntry(SERVER_CLIENT_ID, 5, COUNTS)
    newer = {"note_counts": {"worked-well": 3}}
    assert reg.set_server(newer, 6) == AwarenessEntry(SERVER_CLIENT_ID, 6, newer)
    assert reg.current() == [AwarenessEntry(SERVER_CLIENT_ID, 6, newer)]


@given(st.lists(st.integers(min_value=1, max_value=10**15), min_size=1, max_size=30))
def test_whatever_order_the_changes_arrive_in_the_highest_clock_is_shown(
    clocks: list[int],
) -> None:
    reg = AwarenessRegistry()
    for clock in clocks:
        reg.set_server({"clock": clock}, clock)
    top = max(clocks)
    assert reg.server_state() == AwarenessEntry(SERVER_CLIENT_ID, top, {"clock": top})


def test_no_connection_may_claim_the_servers_id_before_or_after_it_is_set() -> None:
    reg = AwarenessRegistry()
    forged = AwarenessEntry(SERVER_CLIENT_ID, 9, {"note_counts": {"worked-well": 99}})
    change = reg.apply_from("mallory", [forged], ALICE, PresenceLimits())
    assert change.refused == [SERVER_CLIENT_ID] and not change.accepted
    assert reg.server_state() is None and reg.owners() == set()
    reg.set_server(COUNTS, 3)
    change = reg.apply_from("mallory", [forged], ALICE, PresenceLimits())
    assert change.refused == [SERVER_CLIENT_ID]
    # a Yjs client sending back what it was shown (a query's answer) is no claim
    echo = AwarenessEntry(SERVER_CLIENT_ID, 3, COUNTS)
    change = reg.apply_from("alice", [echo], ALICE, PresenceLimits())
    assert change.ignored == 1 and not change.refused
    assert reg.server_state() == AwarenessEntry(SERVER_CLIENT_ID, 3, COUNTS)


def test_the_servers_entry_is_no_presence_and_stays_when_everyone_leaves() -> None:
    reg = AwarenessRegistry(PresenceLimits(presences_per_room=1))
    reg.set_server(COUNTS, 1)
    mine = AwarenessEntry(7, 1, {"cursor": 1})
    change = reg.apply_from("alice", [mine], ALICE, PresenceLimits(presences_per_room=1))
    assert [e.client_id for e in change.accepted] == [7]  # the room's one presence
    assert reg.remove_owner("alice") == [AwarenessEntry(7, 2, None)]
    assert reg.current() == [AwarenessEntry(SERVER_CLIENT_ID, 1, COUNTS)]
