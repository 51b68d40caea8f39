"""Decide whether an update from a read-only peer would change a document.

Every y-websocket client answers the server's sync step 1 with a step 2, even on a
doc it may not write. That answer carries the client's whole delete set, so it is
rarely the empty update. We must tell such harmless echoes (nothing the server does
not already have) from real writes, without applying anything: an update adds
nothing when its state vector is within ours and its delete set is covered by ours.
"""

from __future__ import annotations

from pycrdt import get_state, get_update, write_var_uint

from debrief.protocol.errors import ProtocolError
from debrief.protocol.messages import EMPTY_UPDATE, Reader

Ranges = list[tuple[int, int]]  # (start clock, end clock exclusive), sorted, merged


def decode_state_vector(data: bytes) -> dict[int, int]:
    reader = Reader(data)
    return _read_state_vector(reader)


def _read_state_vector(reader: Reader) -> dict[int, int]:
    count = reader.var_uint()
    vector = {}
    for _ in range(count):
        client = reader.var_uint()
        vector[client] = reader.var_uint()
    return vector


def _read_delete_set(reader: Reader) -> dict[int, Ranges]:
    count = reader.var_uint()
    result: dict[int, Ranges] = {}
    for _ in range(count):
        client = reader.var_uint()
        ranges = [(clock, clock + length) for clock, length in _pairs(reader)]
        result[client] = _merge(result.get(client, []) + ranges)
    return result


def _pairs(reader: Reader) -> list[tuple[int, int]]:
    return [(reader.var_uint(), reader.var_uint()) for _ in range(reader.var_uint())]


def _merge(ranges: Ranges) -> Ranges:
    merged: Ranges = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _covered(ranges: Ranges, known: Ranges) -> bool:
    for start, end in ranges:
        if not any(k_start <= start and end <= k_end for k_start, k_end in known):
            return False
    return True


def decode_snapshot(snapshot: bytes) -> tuple[dict[int, Ranges], dict[int, int]]:
    """Split an encoded pycrdt Snapshot into (delete set, state vector)."""
    reader = Reader(snapshot)
    delete_set = _read_delete_set(reader)
    return delete_set, _read_state_vector(reader)


def adds_nothing(update: bytes, delete_set: dict[int, Ranges], state: dict[int, int]) -> bool:
    """True when applying ``update`` to a doc with this snapshot would change nothing."""
    if update == EMPTY_UPDATE:
        return True
    try:
        theirs = decode_state_vector(get_state(update))
    except Exception as exc:  # pycrdt raises plain exceptions on undecodable updates
        raise ProtocolError("update cannot be decoded") from exc
    if any(clock > state.get(client, 0) for client, clock in theirs.items()):
        return False
    encoded_state = _encode_state_vector(state)
    try:
        diff = get_update(update, encoded_state)
    except Exception as exc:
        raise ProtocolError("update cannot be decoded") from exc
    reader = Reader(diff)
    if reader.var_uint() != 0:  # structs we lack
        return False
    theirs_deleted = _read_delete_set(reader)
    return all(
        _covered(ranges, delete_set.get(client, [])) for client, ranges in theirs_deleted.items()
    )


def _encode_state_vector(state: dict[int, int]) -> bytes:
    parts = [write_var_uint(len(state))]
    for client, clock in state.items():
        parts.append(write_var_uint(client) + write_var_uint(clock))
    return b"".join(parts)
