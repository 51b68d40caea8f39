"""Presence bounds without sockets: state size and shape, client id caps per connection
and per room, ids that stay bound to their participant, and the rate bucket."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from debrief.protocol import ProtocolError
from debrief.protocol.awareness import (
    AwarenessEntry,
    AwarenessRegistry,
    PresenceFlood,
    PresenceLimits,
    check_json_shape,
    encode_awareness,
    parse_awareness,
)
from debrief.rooms.ratelimit import TokenBucket

LIMITS = PresenceLimits()
ALICE = {"name": "Alice", "role": "participant", "id": "p_alice"}
BOB = {"name": "Bob", "role": "participant", "id": "p_bob"}


def raw_payload(states: list[str]) -> bytes:
    """An awareness payload with the given JSON texts, as any client could send it."""
    out = bytes([len(states)])
    for cid, text in enumerate(states, start=1):
        data = text.encode()
        out += bytes([cid, 1]) + encode_len(len(data)) + data
    return out


def encode_len(n: int) -> bytes:
    out = b""
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


# --- parsing ---------------------------------------------------------------------------


def test_deep_nesting_is_refused_before_json_decodes_it() -> None:
    deep = '{"a":' + "[" * 100_000 + "]" * 100_000 + "}"
    big = PresenceLimits(state_bytes=1 << 20)
    with pytest.raises(ProtocolError, match="nested too deeply"):
        parse_awareness(raw_payload([deep]), big)
    # an unbalanced opening alone (not even JSON) is refused the same way
    with pytest.raises(ProtocolError, match="nested too deeply"):
        parse_awareness(raw_payload(["[" * 100_000]), big)


def test_state_size_is_bounded_in_bytes() -> None:
    fits = json.dumps({"t": "é" * ((LIMITS.state_bytes - 10) // 2)}, ensure_ascii=False)
    assert len(fits.encode()) <= LIMITS.state_bytes
    parse_awareness(raw_payload([fits]), LIMITS)
    too_big = json.dumps({"t": "x" * LIMITS.state_bytes})
    with pytest.raises(ProtocolError, match="too large"):
        parse_awareness(raw_payload([too_big]), LIMITS)


def test_brackets_inside_strings_are_not_structure() -> None:
    state = {"t": "[" * 500 + '\\"[{' + "\\" * 3, "u": ["]" * 40]}
    text = json.dumps(state)
    check_json_shape(text, LIMITS)
    assert parse_awareness(raw_payload([text]), LIMITS)[0].state == state


def test_a_lone_surrogate_is_relayed_as_an_escape() -> None:
    entries = parse_awareness(raw_payload(['{"n":"\\ud800"}']), LIMITS)
    assert parse_awareness(encode_awareness(entries)) == entries


@pytest.mark.parametrize(
    "text", ['{"x":NaN}', '{"x":-Infinity}', '{"x":1e400}', '{"x":1' + "0" * 5000 + "}"]
)
def test_numbers_a_browser_cannot_read_back_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError, match="not JSON"):
        parse_awareness(raw_payload([text]), LIMITS)


def test_too_many_values_are_refused() -> None:
    with pytest.raises(ProtocolError, match="too many values"):
        check_json_shape(json.dumps({"a": list(range(LIMITS.items + 1))}), LIMITS)


def nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value, "s": "[{"}
    return value


@given(st.integers(min_value=0, max_value=60))
def test_shape_check_measures_depth_exactly(depth: int) -> None:
    text = json.dumps({"x": nested(depth)})
    if depth + 1 <= LIMITS.depth:
        check_json_shape(text, LIMITS)
    else:
        with pytest.raises(ProtocolError):
            check_json_shape(text, LIMITS)


@given(
    st.text(alphabet='[]{}",:\\ab1', max_size=300)
    | st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    ).map(lambda value: json.dumps({"v": value}))
)
def test_any_text_is_parsed_or_refused_cleanly(text: str) -> None:
    """Refused with ProtocolError or parsed; what parses is relayed intact."""
    try:
        entries = parse_awareness(raw_payload([text]), LIMITS)
    except ProtocolError:
        return
    assert parse_awareness(encode_awareness(entries)) == entries


@given(st.binary(max_size=200))
def test_any_bytes_are_parsed_or_refused_cleanly(payload: bytes) -> None:
    try:
        parse_awareness(payload, LIMITS)
    except ProtocolError:
        pass


# --- the registry ----------------------------------------------------------------------


def claim(registry: AwarenessRegistry, owner: object, user: dict[str, Any], *cids: int) -> Any:
    entries = [AwarenessEntry(cid, 1, {"here": True}) for cid in cids]
    return registry.apply_from(owner, entries, user, LIMITS)


def test_a_connection_claiming_more_ids_than_a_browser_is_a_flood() -> None:
    registry = AwarenessRegistry()
    alice = object()
    assert len(claim(registry, alice, ALICE, 1, 2, 3).accepted) == 3
    with pytest.raises(PresenceFlood):
        claim(registry, alice, ALICE, 4, 5)
    assert len(registry) == 3  # nothing of the flood was applied
    assert len(claim(registry, alice, ALICE, 4).accepted) == 1
    with pytest.raises(PresenceFlood):
        claim(registry, alice, ALICE, *range(10, 100_010, 100))


def test_a_full_room_refuses_newcomers_and_evicts_nobody() -> None:
    limits = PresenceLimits(presences_per_room=6)
    registry = AwarenessRegistry()
    owners = [object() for _ in range(4)]
    for i, owner in enumerate(owners[:3]):
        user = {"name": f"u{i}", "id": f"p{i}"}
        entries = [AwarenessEntry(10 * i + k, 1, {"here": True}) for k in range(2)]
        assert len(registry.apply_from(owner, entries, user, limits).accepted) == 2
    change = registry.apply_from(
        owners[3], [AwarenessEntry(99, 1, {"here": True})], {"id": "late"}, limits
    )
    assert change.accepted == [] and change.crowded == [99]
    assert len(registry.current()) == 6
    # the people present still update their states
    change = registry.apply_from(owners[0], [AwarenessEntry(0, 2, {"c": 1})], {"id": "p0"}, limits)
    assert len(change.accepted) == 1
    # once someone leaves, the newcomer fits
    registry.remove_owner(owners[1])
    change = registry.apply_from(
        owners[3], [AwarenessEntry(99, 1, {"here": True})], {"id": "late"}, limits
    )
    assert len(change.accepted) == 1


def test_a_freed_client_id_stays_bound_to_its_participant() -> None:
    registry = AwarenessRegistry()
    alice, mallory, alice_again = object(), object(), object()
    claim(registry, alice, ALICE, 7)
    assert registry.remove_owner(alice) == [AwarenessEntry(7, 2, None)]
    # someone else cannot take it, whatever the clock
    change = registry.apply_from(mallory, [AwarenessEntry(7, 50, {"x": 1})], BOB, LIMITS)
    assert change.accepted == [] and change.refused == [7]
    # an echo of the removal is ignored without a reply
    change = registry.apply_from(mallory, [AwarenessEntry(7, 2, None)], BOB, LIMITS)
    assert change.echo_only and change.ignored == 1
    # the same participant takes it back with the clock its browser still has; it goes
    # out past the removal (clock 2) everyone saw, or their Yjs would keep it hidden
    change = registry.apply_from(alice_again, [AwarenessEntry(7, 1, {"x": 2})], ALICE, LIMITS)
    assert change.accepted == [AwarenessEntry(7, 3, {"x": 2, "user": ALICE})]
    assert registry.owners() == {alice_again}
    # her browser adopts the echoed clock: what it sends next goes out as it is
    change = registry.apply_from(alice_again, [AwarenessEntry(7, 4, {"x": 3})], ALICE, LIMITS)
    assert change.accepted == [AwarenessEntry(7, 4, {"x": 3, "user": ALICE})]


def test_echoes_of_another_tab_do_not_move_its_id() -> None:
    """Browsers send back what they receive; the same person's second tab echoing the
    first tab's state must not take that state over (nor count against its cap)."""
    registry = AwarenessRegistry()
    tab1, tab2 = object(), object()
    claim(registry, tab1, ALICE, 1)
    claim(registry, tab2, ALICE, 2)
    state = registry.current()[0].state
    change = registry.apply_from(tab2, [AwarenessEntry(1, 1, state)], ALICE, LIMITS)
    assert change.echo_only
    assert registry.remove_owner(tab2) == [AwarenessEntry(2, 2, None)]
    assert registry.owners() == {tab1}


def test_a_late_echo_of_a_tab_that_left_does_not_bring_it_back() -> None:
    """The other tab's echo of the last state can reach the server after the first tab
    is gone and its presence removed: it must not take that presence over (it would
    stay forever), while a reconnect on a connection of its own still may."""
    registry = AwarenessRegistry()
    tab1, tab2, tab1_again = object(), object(), object()
    claim(registry, tab1, ALICE, 1)
    claim(registry, tab2, ALICE, 2)
    last = registry.current()[0]
    assert registry.remove_owner(tab1) == [AwarenessEntry(1, last.clock + 1, None)]
    change = registry.apply_from(tab2, [last], ALICE, LIMITS)  # the echo, late
    assert change.echo_only and change.accepted == []
    assert registry.owners() == {tab2} and [e.client_id for e in registry.current()] == [2]
    change = registry.apply_from(tab1_again, [last], ALICE, LIMITS)
    assert change.accepted == [AwarenessEntry(1, last.clock + 2, last.state)]


def test_bindings_of_people_gone_are_bounded() -> None:
    limits = PresenceLimits(presences_per_room=10)  # keeps 40 bindings, at most ~90
    registry = AwarenessRegistry()
    for i in range(2_000):
        owner = object()
        registry.apply_from(owner, [AwarenessEntry(i, 1, {"here": 1})], {"id": f"p{i}"}, limits)
        registry.remove_owner(owner)
    assert len(registry) <= 2 * limits.bindings_kept + limits.bindings_kept // 4
    # the most recent ones are still bound
    change = registry.apply_from(object(), [AwarenessEntry(1_999, 9, {"x": 1})], BOB, limits)
    assert change.refused == [1_999]


def test_relayed_presence_is_not_capped_per_owner() -> None:
    """Presence from other processes comes one owner per client id, already checked."""
    registry = AwarenessRegistry()
    accepted, refused = registry.apply("node:a:1", [AwarenessEntry(1, 1, {"x": 1})], ALICE)
    assert len(accepted) == 1 and refused == []


# --- the rate bucket -------------------------------------------------------------------


def test_bucket_allows_the_burst_then_refuses() -> None:
    bucket = TokenBucket(LIMITS.burst)
    taken = 0
    while bucket.take(1, 0.0, LIMITS.burst):
        taken += 1
    assert taken == LIMITS.burst


def test_cursor_moves_at_two_hertz_pass_forever() -> None:
    bucket = TokenBucket(LIMITS.burst)
    for _ in range(10_000):
        bucket.stamp = time.monotonic() - 0.5  # half a second since the last move
        assert bucket.take(1.05, LIMITS.rate, LIMITS.burst)


def test_a_sustained_flood_runs_dry() -> None:
    bucket = TokenBucket(LIMITS.burst)
    refused = False
    for _ in range(1_000):
        bucket.stamp = time.monotonic() - 0.01  # 100 messages a second
        if not bucket.take(1, LIMITS.rate, LIMITS.burst):
            refused = True
            break
    assert refused


def test_a_reconnect_takes_over_from_a_connection_not_yet_known_dead() -> None:
    """A network that drops without a goodbye leaves the old connection open on the
    server for a while; the browser announces itself afresh (a newer clock) on its new
    connection, and that moves the presence over at once."""
    registry = AwarenessRegistry()
    old, new = object(), object()
    claim(registry, old, ALICE, 7)
    clock = registry.current()[0].clock
    # what the browser sends first on the new connection: its state at the same clock
    change = registry.apply_from(new, [AwarenessEntry(7, clock, {"x": 1})], ALICE, LIMITS)
    assert change.echo_only  # could be another tab's echo: not taken
    change = registry.apply_from(new, [AwarenessEntry(7, clock + 1, {"x": 1})], ALICE, LIMITS)
    assert change.accepted == [AwarenessEntry(7, clock + 1, {"x": 1, "user": ALICE})]
    assert registry.owners() == {new}
    assert registry.remove_owner(old) == []  # the old one's end removes nothing now
