"""The sans-I/O protocol layer, without sockets."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map, Snapshot, Text, create_sync_message, create_update_message

from debrief.protocol import (
    AwarenessFrame,
    PermissionDenied,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    keepalive_frame,
    parse_frame,
    permission_denied_frame,
    sync_step1_frame,
    sync_step2_frame,
    update_frame,
)
from debrief.protocol.awareness import (
    AwarenessEntry,
    AwarenessRegistry,
    encode_awareness,
    parse_awareness,
)
from debrief.protocol.updates import adds_nothing, decode_snapshot


def sample_doc() -> Doc:
    doc: Doc = Doc()
    doc.get("m", type=Map)["a"] = 1
    doc.get("m", type=Map)["a"] = 2  # an overwrite leaves a deletion behind
    text = doc.get("t", type=Text)
    text.insert(0, "hello")
    del text[0:2]
    return doc


def test_frames_roundtrip_through_parse() -> None:
    doc = sample_doc()
    assert parse_frame(create_sync_message(doc)) == SyncStep1(doc.get_state())
    assert parse_frame(sync_step1_frame(b"\x00")) == SyncStep1(b"\x00")
    assert parse_frame(sync_step2_frame(doc.get_update())) == SyncStep2(doc.get_update())
    assert parse_frame(update_frame(b"\x00\x00")) == SyncUpdate(b"\x00\x00")
    assert update_frame(b"\x00\x00") == create_update_message(b"\x00\x00")
    assert parse_frame(b"\x03") == QueryAwareness()
    assert parse_frame(permission_denied_frame("nein ✗")) == PermissionDenied("nein ✗")
    assert parse_frame(keepalive_frame()) == AwarenessFrame(b"\x00")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x07",
        b"\x00",
        b"\x00\x05\x00",
        b"\x00\x00\x05ab",
        b"\x01",
        b"\x02\x01\x00",
        b"\x03\x00",
        b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",
        b"\x02\x00\x02\xff\xfe",
    ],
)
def test_malformed_frames_raise(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_frame(data)


def test_awareness_roundtrip_keeps_utf8_lengths() -> None:
    entries = [AwarenessEntry(7, 3, {"user": {"name": "Zoë ✓"}}), AwarenessEntry(9, 1, None)]
    assert parse_awareness(encode_awareness(entries)) == entries


@pytest.mark.parametrize("payload", [b"\x01\x07\x01\x03abc", b"\x01\x07\x01\x02[]", b"\x02\x07"])
def test_bad_awareness_raises(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_awareness(payload)


def test_registry_binds_ids_stamps_user_and_removes() -> None:
    registry = AwarenessRegistry()
    alice, mallory = object(), object()
    alice_user = {"name": "Alice", "role": "participant"}
    accepted, refused = registry.apply(
        alice, [AwarenessEntry(1, 1, {"x": 1, "user": "forged"})], alice_user
    )
    assert refused == [] and accepted[0].state == {"x": 1, "user": alice_user}
    accepted, refused = registry.apply(mallory, [AwarenessEntry(1, 5, {"x": 2})], {"name": "M"})
    assert accepted == [] and refused == [1]
    stale, _ = registry.apply(alice, [AwarenessEntry(1, 0, {"x": 0})], alice_user)
    assert stale == []
    assert [e.state for e in registry.current()] == [{"x": 1, "user": alice_user}]
    removals = registry.remove_owner(alice)
    assert removals == [AwarenessEntry(1, 2, None)]
    assert registry.current() == []


def test_only_the_same_participant_takes_a_bound_client_id_over() -> None:
    """A browser reconnecting (here, or elsewhere after its process died) before its old
    connection is known to be gone keeps its presence; nobody else gets it."""
    registry = AwarenessRegistry()
    old_conn, new_conn, other = object(), "node:dead-process:7", object()
    alice = {"name": "Alice", "role": "participant", "id": "p-alice"}
    registry.apply(old_conn, [AwarenessEntry(7, 3, {"cursor": 1})], alice)
    bob = {"name": "Bob", "role": "participant", "id": "p-bob"}
    accepted, refused = registry.apply(other, [AwarenessEntry(7, 9, {"cursor": 66})], bob)
    assert accepted == [] and refused == [7]
    accepted, refused = registry.apply(new_conn, [AwarenessEntry(7, 4, {"cursor": 2})], alice)
    assert refused == [] and accepted[0].state == {"cursor": 2, "user": alice}
    assert registry.remove_owner(old_conn) == []  # the old connection leaving removes nothing
    assert registry.owners() == {new_conn}
    assert registry.remove_owner(new_conn) == [AwarenessEntry(7, 5, None)]


def test_adds_nothing_tells_echoes_from_writes() -> None:
    server = sample_doc()
    delete_set, state = decode_snapshot(Snapshot.from_doc(server).encode())
    echo: Doc = Doc()
    echo.apply_update(server.get_update())
    assert adds_nothing(echo.get_update(server.get_state()), delete_set, state)
    assert adds_nothing(b"\x00\x00", delete_set, state)

    deleting: Doc = Doc()
    deleting.apply_update(server.get_update())
    del deleting.get("t", type=Text)[0:1]
    assert not adds_nothing(deleting.get_update(server.get_state()), delete_set, state)

    adding: Doc = Doc()
    adding.apply_update(server.get_update())
    adding.get("m", type=Map)["new"] = True
    assert not adds_nothing(adding.get_update(server.get_state()), delete_set, state)

    with pytest.raises(ProtocolError):
        adds_nothing(b"\x05\x01 not an update", delete_set, state)
