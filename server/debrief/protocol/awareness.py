"""Awareness payloads (presence) and who may set which client's state.

The y-protocols awareness encoding is: varuint count, then per client a varuint
client id, a varuint clock and a length-prefixed JSON string ("null" = removed).
We decode it ourselves because pycrdt's Awareness class writes string lengths in
characters rather than bytes, and because the server rewrites each state: it binds a
client id to the participant that first uses it and stamps the ``user`` field from the
session, so nobody can pose as another connection or as the moderator.

Bounds (PresenceLimits), because presence is relayed to everyone in the room:
- each state is at most ``state_bytes`` of JSON, nested at most ``depth`` deep and made
  of at most ``items`` values; both are checked by a linear scan before ``json.loads``
  (which recurses) sees the text;
- a connection holds at most ``ids_per_connection`` client ids (a browser tab uses one
  per doc): more is a flood, and the connection is closed (PresenceFlood, 1008);
- a room shows at most ``presences_per_room`` presences: a newcomer's ids beyond that
  are refused, nobody already present is evicted.

A client id stays bound to its participant for the room's lifetime, also after its
connection left: only the same participant may take it back (a browser that reconnects,
here or, after its own process died, to another). Bindings whose owner left more than
BINDING_RETENTION_S ago are dropped once the map grows past ``bindings_kept``.

Browsers (y-websocket) send every awareness change they receive back to the server;
such echoes carry a client id bound to someone else and a clock the server already has,
and are ignored without a reply, so they cost the sender little (see rooms/room.py).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from pycrdt import write_var_uint

from debrief.bounded_json import JsonTooComplex, check_shape, depth_of
from debrief.protocol.errors import ProtocolError
from debrief.protocol.messages import Reader, var_string

MAX_CLIENTS_PER_UPDATE = 1024
# The server's own entry in a doc's awareness: what it shows everyone that is not the
# doc's content (how many notes wait unrevealed). It is set only by the server, in any
# of its processes, and a higher clock replaces it; no connection may claim this id (a
# browser draws its own at random from 2^32; this one reads "DEB12EF", not a small number
# a hand-made client would pick).
SERVER_CLIENT_ID = 0xDEB12EF
_SERVER = "debrief-server"  # the owner of SERVER_CLIENT_ID's slot
# Seconds a client id stays bound to a participant that left, once the map is large.
BINDING_RETENTION_S = 3600.0


@dataclass(frozen=True, slots=True)
class PresenceLimits:
    """Bounds on presence; one instance shared by every connection of a process."""

    ids_per_connection: int = 4
    presences_per_room: int = 500
    state_bytes: int = 8 * 1024
    depth: int = 32
    items: int = 256
    # awareness messages per second and burst, per connection (rooms/ratelimit.py)
    rate: float = 20.0
    burst: float = 50.0

    @property
    def bindings_kept(self) -> int:
        """Bindings a room keeps before dropping those of participants long gone."""
        return 4 * self.presences_per_room


# What states relayed between our own processes may be (already checked and stamped
# at the edge; JSON escapes and the stamp can make them a little larger).
RELAYED = PresenceLimits(state_bytes=64 * 1024, depth=34, items=1024)


class PresenceFlood(Exception):
    """A connection claims more client ids or sends more presence than any browser;
    the websocket adapter closes it with 1008."""


@dataclass(slots=True)
class AwarenessEntry:
    client_id: int
    clock: int
    state: dict[str, Any] | None


def check_json_shape(raw: str, limits: PresenceLimits) -> None:
    """Refuse JSON nested deeper than ``limits.depth`` or made of more than
    ``limits.items`` values, in time linear in ``raw`` and without recursion
    (bounded_json.check_shape). Invalid JSON may pass: json.loads refuses it."""
    try:
        check_shape(raw, max_depth=limits.depth, max_values=limits.items)
    except JsonTooComplex as exc:
        # check_shape tests the depth first, as the refusals here always did
        if depth_of(raw) > limits.depth:
            raise ProtocolError("awareness state is nested too deeply") from exc
        raise ProtocolError("awareness state has too many values") from exc


def _not_json(constant: str) -> Any:
    """NaN and Infinity: Python reads and writes them, browsers' JSON.parse throws."""
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e400 would be written back as Infinity
        raise ValueError("number out of range")
    return value


def parse_state(raw: bytes, limits: PresenceLimits) -> dict[str, Any] | None:
    if len(raw) > limits.state_bytes:
        raise ProtocolError("awareness state is too large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("string is not UTF-8") from exc
    if not text:
        return None
    check_json_shape(text, limits)
    try:
        state = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError("awareness state is not JSON") from exc
    if state is not None and not isinstance(state, dict):
        raise ProtocolError("awareness state must be a JSON object or null")
    return state


def parse_awareness(payload: bytes, limits: PresenceLimits = RELAYED) -> list[AwarenessEntry]:
    reader = Reader(payload)
    count = reader.var_uint()
    if count > MAX_CLIENTS_PER_UPDATE:
        raise ProtocolError("too many clients in one awareness update")
    entries = []
    for _ in range(count):
        client_id = reader.var_uint()
        clock = reader.var_uint()
        entries.append(AwarenessEntry(client_id, clock, parse_state(reader.buffer(), limits)))
    if not reader.at_end():
        raise ProtocolError("trailing bytes after awareness update")
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    parts = [write_var_uint(len(entries))]
    for entry in entries:
        parts.append(write_var_uint(entry.client_id))
        parts.append(write_var_uint(entry.clock))
        # ASCII: a client's lone surrogate ("\ud800") stays an escape, never invalid UTF-8
        parts.append(var_string(json.dumps(entry.state, separators=(",", ":"))))
    return b"".join(parts)


@dataclass(slots=True)
class _Slot:
    owner: object | None  # None: the owner left; the binding stays
    clock: int
    state: dict[str, Any] | None
    participant: str | None  # the ``id`` of the stamped user: who may take the slot back
    left_at: float = 0.0  # time.monotonic() when the owner left


@dataclass(slots=True)
class PresenceChange:
    """What one peer's awareness message did."""

    accepted: list[AwarenessEntry] = field(default_factory=list)  # to relay
    refused: list[int] = field(default_factory=list)  # bound to another participant
    crowded: list[int] = field(default_factory=list)  # the room shows enough presences
    ignored: int = 0  # echoes and stale entries, dropped without a reply

    @property
    def echo_only(self) -> bool:
        return not (self.accepted or self.refused or self.crowded)


@dataclass
class AwarenessRegistry:
    """The awareness states of one room, each bound to the connection that owns it."""

    limits: PresenceLimits = field(default_factory=PresenceLimits)
    _slots: dict[int, _Slot] = field(default_factory=dict)
    # client ids per current owner, so a disconnect does not scan every binding
    _owned: dict[object, list[int]] = field(default_factory=dict)
    _present: int = 0  # client ids held by a connection now: the room's presences
    _prune_at: int = 0

    def apply(
        self, owner: object, entries: list[AwarenessEntry], user: dict[str, Any]
    ) -> tuple[list[AwarenessEntry], list[int]]:
        """Apply entries from ``owner``; return (accepted entries to relay, refused ids)."""
        change = self.apply_from(owner, entries, user)
        return change.accepted, change.refused + change.crowded

    def apply_from(
        self,
        owner: object,
        entries: list[AwarenessEntry],
        user: dict[str, Any],
        limits: PresenceLimits | None = None,
    ) -> PresenceChange:
        """Apply a peer's entries. ``user`` replaces whatever the peer put in its state's
        ``user`` field. Raises PresenceFlood, before changing anything, when ``owner``
        would hold more than ``limits.ids_per_connection`` client ids."""
        if limits is not None:
            self.limits = limits  # the process's settings, for relayed presence too
            self._check_claims(owner, entries, user)
        participant = user.get("id")
        if not isinstance(participant, str):
            participant = None
        change = PresenceChange()
        for entry in entries:
            self._apply_one(owner, entry, user, participant, change)
        return change

    def _claimable(self, owner: object, entry: AwarenessEntry, participant: object) -> bool:
        """Whether ``entry`` would bind a client id that ``owner`` does not hold yet."""
        if entry.client_id == SERVER_CLIENT_ID:
            return False  # refused in _apply_one, never bound
        slot = self._slots.get(entry.client_id)
        if slot is None:
            return entry.state is not None
        if slot.owner is owner or slot.participant is None or slot.participant != participant:
            return False
        return slot.owner is None or entry.clock > slot.clock

    def _check_claims(
        self, owner: object, entries: list[AwarenessEntry], user: dict[str, Any]
    ) -> None:
        participant = user.get("id")
        held = len(self._owned.get(owner, ()))
        claims = {e.client_id for e in entries if self._claimable(owner, e, participant)}
        if held + len(claims) > self.limits.ids_per_connection:
            raise PresenceFlood("too many presence client ids for one connection")

    def _apply_one(
        self,
        owner: object,
        entry: AwarenessEntry,
        user: dict[str, Any],
        participant: str | None,
        change: PresenceChange,
    ) -> None:
        slot = self._slots.get(entry.client_id)
        clock = entry.clock
        if entry.client_id == SERVER_CLIENT_ID:  # the server's: nobody may pose as it
            if slot is not None and clock <= slot.clock:
                change.ignored += 1  # a Yjs client echoing the server's entry back
            else:
                change.refused.append(entry.client_id)
            return
        if slot is not None and slot.owner is not owner:
            if slot.participant is None or slot.participant != participant:
                if entry.clock > slot.clock:
                    change.refused.append(entry.client_id)
                else:
                    change.ignored += 1  # an echo of what we relayed
                return
            if slot.owner is not None and entry.clock <= slot.clock:
                change.ignored += 1  # the same person's other tab echoing
                return
            if slot.owner is None and entry.state is None:
                change.ignored += 1  # nothing to remove
                return
            if slot.owner is None and entry.clock <= slot.clock and owner in self._owned:
                # A connection that shows its own presence already, sending the state
                # of one that left (the same person's other tab echoing it late): not a
                # reconnect, which starts on a connection of its own.
                change.ignored += 1
                return
            if slot.owner is None and self._present >= self.limits.presences_per_room:
                change.crowded.append(entry.client_id)
                return
            # The same participant, reconnected: a clock from before it left is fine,
            # but it goes out past the removal everyone saw when it left, or Yjs
            # clients would take it for an old state and keep showing it gone.
            self._move(entry.client_id, slot, owner)
            clock = max(clock, slot.clock + 1)
        elif slot is not None and entry.clock < slot.clock:
            change.ignored += 1  # stale, as Yjs itself would ignore it
            return
        state = entry.state
        if state is not None:
            state = {**state, "user": user}
        if slot is None:
            if state is None:
                change.ignored += 1  # removing what was never here
                return
            if self._present >= self.limits.presences_per_room:
                change.crowded.append(entry.client_id)
                return
            self._slots[entry.client_id] = _Slot(owner, clock, state, participant)
            self._owned.setdefault(owner, []).append(entry.client_id)
            self._present += 1
            self._prune()
        else:
            slot.clock, slot.state = clock, state
        change.accepted.append(AwarenessEntry(entry.client_id, clock, state))

    def set_server(self, state: dict[str, Any], clock: int) -> AwarenessEntry | None:
        """Show the server's own ``state`` under SERVER_CLIENT_ID; the entry to send, or
        None when what is shown already has this clock or a higher one (set by another
        process, or by a change made after this one). ``clock`` is at least 1: Yjs
        clients take no state of a client they do not know at clock 0."""
        slot = self._slots.get(SERVER_CLIENT_ID)
        if slot is not None and clock <= slot.clock:
            return None
        if slot is None:  # not a presence: not counted, not owned, never pruned
            self._slots[SERVER_CLIENT_ID] = _Slot(_SERVER, clock, state, None)
        else:
            slot.clock, slot.state = clock, state
        return AwarenessEntry(SERVER_CLIENT_ID, clock, state)

    def server_state(self) -> AwarenessEntry | None:
        """What the server shows now, if anything."""
        slot = self._slots.get(SERVER_CLIENT_ID)
        if slot is None or slot.state is None:
            return None
        return AwarenessEntry(SERVER_CLIENT_ID, slot.clock, slot.state)

    def _move(self, client_id: int, slot: _Slot, owner: object) -> None:
        if slot.owner is not None:
            ids = self._owned.get(slot.owner)
            if ids is not None:
                ids.remove(client_id)
                if not ids:
                    del self._owned[slot.owner]
        else:
            self._present += 1
        slot.owner, slot.left_at = owner, 0.0
        self._owned.setdefault(owner, []).append(client_id)

    def remove_owner(self, owner: object) -> list[AwarenessEntry]:
        """``owner`` left: remove its states (the removals to relay) and keep its ids
        bound to its participant."""
        removals = []
        now = time.monotonic()
        for cid in self._owned.pop(owner, ()):
            self._present -= 1
            slot = self._slots[cid]
            slot.owner, slot.left_at = None, now
            slot.clock += 1
            if slot.state is not None:
                slot.state = None
                removals.append(AwarenessEntry(cid, slot.clock, None))
            if slot.participant is None:
                del self._slots[cid]  # nobody could take it back
        return removals

    def _prune(self) -> None:
        """Drop bindings of participants that left long ago once there are many; past
        twice as many, drop the oldest ones that left regardless (churning connections)."""
        kept = self.limits.bindings_kept
        if len(self._slots) <= max(kept, self._prune_at):
            return
        cutoff = time.monotonic() - BINDING_RETENTION_S
        left = sorted(
            (slot.left_at, cid) for cid, slot in self._slots.items() if slot.owner is None
        )
        for left_at, cid in left:  # the longest gone first
            if len(self._slots) <= kept or (left_at >= cutoff and len(self._slots) <= 2 * kept):
                break
            del self._slots[cid]
        # do not sort again on every new binding while all remaining ones are recent
        self._prune_at = len(self._slots) + kept // 4

    def current(self) -> list[AwarenessEntry]:
        """Every live state, for a peer that just joined or asked."""
        return [
            AwarenessEntry(cid, slot.clock, slot.state)
            for cid, slot in self._slots.items()
            if slot.state is not None
        ]

    def owners(self) -> set[object]:
        return set(self._owned)

    def __len__(self) -> int:
        return len(self._slots)
