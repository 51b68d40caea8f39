"""Awareness payloads (presence) and who may set which client's state.

The y-protocols awareness encoding is: varuint count, then per client a varuint
client id, a varuint clock and a length-prefixed JSON string ("null" = removed).
We decode it ourselves because pycrdt's Awareness class writes string lengths in
characters rather than bytes, and because the server rewrites each state: it binds a
client id to the first connection that uses it and stamps the ``user`` field from the
session, so nobody can pose as another connection or as the moderator. Only the same
participant may take a bound client id over: a browser that reconnects (to this process
or, after its own died, to another) before its old connection is known to be gone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pycrdt import write_var_uint

from debrief.protocol.errors import ProtocolError
from debrief.protocol.messages import Reader, var_string

MAX_CLIENTS_PER_UPDATE = 1024


@dataclass(slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: dict[str, Any] | None


def parse_awareness(payload: bytes) -> list[AwarenessEntry]:
    reader = Reader(payload)
    count = reader.var_uint()
    if count > MAX_CLIENTS_PER_UPDATE:
        raise ProtocolError("too many clients in one awareness update")
    entries = []
    for _ in range(count):
        client_id = reader.var_uint()
        clock = reader.var_uint()
        raw = reader.string()
        try:
            state = json.loads(raw) if raw else None
        except ValueError as exc:
            raise ProtocolError("awareness state is not JSON") from exc
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("awareness state must be a JSON object or null")
        entries.append(AwarenessEntry(client_id, clock, state))
    if not reader.at_end():
        raise ProtocolError("trailing bytes after awareness update")
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for entry in entries:
        parts.append(write_var_uint(entry.client_id))
        parts.append(write_var_uint(entry.clock))
        parts.append(var_string(json.dumps(entry.state, separators=(",", ":"))))
    return b"".join(parts)


@dataclass(slots=True)
class _Slot:
    owner: object
    clock: int
    state: dict[str, Any] | None
    participant: str | None  # the ``id`` of the stamped user: who may take the slot over


@dataclass
class AwarenessRegistry:
    """The awareness states of one room, each bound to the connection that owns it."""

    _slots: dict[int, _Slot] = field(default_factory=dict)

    def apply(
        self, owner: object, entries: list[AwarenessEntry], user: dict[str, Any]
    ) -> tuple[list[AwarenessEntry], list[int]]:
        """Apply a peer's entries; return (accepted entries to relay, refused client ids).

        ``user`` replaces whatever the peer put in its state's ``user`` field.
        """
        accepted: list[AwarenessEntry] = []
        refused: list[int] = []
        for entry in entries:
            slot = self._slots.get(entry.client_id)
            if slot is not None and slot.owner is not owner:
                if slot.participant is None or slot.participant != user.get("id"):
                    refused.append(entry.client_id)
                    continue
                slot.owner = owner  # the same participant, reconnected
            if slot is not None and entry.clock < slot.clock:
                continue  # stale, as Yjs itself would ignore it
            state = entry.state
            if state is not None:
                state = {**state, "user": user}
            if slot is None:
                participant = user.get("id")
                self._slots[entry.client_id] = _Slot(
                    owner, entry.clock, state, participant if isinstance(participant, str) else None
                )
            else:
                slot.clock, slot.state = entry.clock, state
            accepted.append(AwarenessEntry(entry.client_id, entry.clock, state))
        return accepted, refused

    def remove_owner(self, owner: object) -> list[AwarenessEntry]:
        """Forget every client id owned by ``owner``; return the removals to relay."""
        gone = [cid for cid, slot in self._slots.items() if slot.owner is owner]
        removals = []
        for cid in gone:
            slot = self._slots.pop(cid)
            removals.append(AwarenessEntry(cid, slot.clock + 1, None))
        return removals

    def current(self) -> list[AwarenessEntry]:
        """Every live state, for a peer that just joined or asked."""
        return [
            AwarenessEntry(cid, slot.clock, slot.state)
            for cid, slot in self._slots.items()
            if slot.state is not None
        ]

    def owners(self) -> set[object]:
        return {slot.owner for slot in self._slots.values()}

    def __len__(self) -> int:
        return len(self._slots)
