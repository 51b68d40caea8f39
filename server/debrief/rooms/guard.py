"""Schema and permission guard for the client-written docs (``timeline``, ``recap``).

A CRDT update cannot be partly refused, and what an update changes (a map key it
overwrites, the owner of an event it deletes) is only known against the doc it lands
on. So each candidate update is applied to a *shadow*: a private pycrdt Doc mirroring
the room's doc plus its accepted-but-unwritten updates. Deep observers on the known
roots report what changed; that is checked against docs/shared-docs.md and the
writer's rights. A refused update leaves the shadow stale (rebuilt lazily from the
room); an accepted one stays in it and comes back as audit entries. Every accepted
update that was not checked must still reach the shadow (``follow``).

The schema itself (roots, fields, limits, writers) is in doc_schema.py, the audit
entries and their coalescing in audit.py.

Nothing here calls ``to_py()`` on a root or on a value of unexpected type: values are
read one key at a time and type-checked (nested types come back as Map/Array/Text
objects, JSON values as Python values, numbers possibly as floats).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Map, MapEvent, Subscription, Text, TextEvent, get_update

from debrief.protocol.errors import is_crdt_failure
from debrief.protocol.messages import Reader
from debrief.protocol.updates import decode_state_vector
from debrief.rooms.audit import AuditEntry, AuditTrail
from debrief.rooms.doc_schema import (
    ANY_ENTRY,
    MAX_EVENT_ID,
    SCHEMA,
    WRITERS,
    Collection,
    TextRoot,
    known_roots,
)

__all__ = ["AuditEntry", "AuditTrail", "DocGuard", "GuardRefused", "Writer"]

log = logging.getLogger(__name__)

MAX_REASON = 160  # chars of a refusal reason sent to the client
_NOTHING_LEFT = b"\x00\x00"  # an update without structs and without deletions


class GuardRefused(Exception):
    """The update breaks the schema or the writer's rights; ``str(exc)`` is the short
    reason sent to the client with the permission-denied message."""


@dataclass(frozen=True, slots=True)
class Writer:
    participant_id: str
    name: str
    role: str  # "moderator" | "scribe" | "participant"


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- the shadow --------------------------------------------------------------------


@dataclass
class _Shadow:
    doc: Doc[Any]
    seen: list[tuple[str, Any]]  # (root, event) reported by the observers
    owners: dict[str, str | None]  # event id -> `by` (None: nobody's)
    roots: dict[str, Any] = field(default_factory=dict)  # name -> its Map or Text
    subscriptions: list[Subscription] = field(default_factory=list)


@dataclass
class _Verdict:
    """What one applied update changed: audit entries and the owner index's changes."""

    changes: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (target, op)
    owners: dict[str, str | None] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)

    def note(self, target: str, op: str, fields: Iterable[str] = ()) -> None:
        self.changes.setdefault((target, op), set()).update(fields)


class DocGuard:
    """Checks client updates to one room's ``timeline`` or ``recap`` doc."""

    def __init__(self, doc_name: str, base: Callable[[], list[bytes]]) -> None:
        self.doc_name = doc_name
        self._base = base
        self._parts = SCHEMA.get(doc_name, ())
        self._shadow: _Shadow | None = None
        # Event id -> `by` of the room's doc (+ pending). Kept when a refused update
        # spoils the shadow (a refusal never reaches the room), which halves the rebuild.
        self._owners: dict[str, str | None] | None = None

    @staticmethod
    def needs_check(doc_name: str, roots: set[str], unrooted: bool, has_deletes: bool) -> bool:
        """False only for an update that can touch nothing the schema defines: its items
        name as explicit parents only roots the schema does not know (a client's own
        map), none has a parent given by id, and it deletes nothing."""
        if doc_name not in SCHEMA:
            return False
        return unrooted or has_deletes or not known_roots(doc_name).isdisjoint(roots)

    def check(
        self,
        update: bytes,
        writer: Writer,
        now_ms: int,
        *,
        roots: Iterable[str] = (),
        structs: Mapping[int, tuple[int, int]] | None = None,
        deletes: Mapping[int, Sequence[tuple[int, int]]] | None = None,
    ) -> list[AuditEntry]:
        """Apply ``update`` to the shadow and judge what it changed.

        Raises GuardRefused (the shadow is then stale, rebuilt at the next check) or
        returns the audit entries (the shadow keeps the update). From the update scanner,
        when known: ``roots``, the root names its items name (roots the schema does not
        define are audited as "root <name>" edits); ``structs`` ({client: (first clock,
        end clock)}) and ``deletes`` ({client: [(start, end)]}) let an update that builds
        on something the server lacks be refused before it touches the shadow, so a client
        stuck behind a refused change does not cost a rebuild per keystroke.
        """
        if writer.role not in WRITERS.get(self.doc_name, frozenset()):
            raise GuardRefused(f"your role may not write the {self.doc_name}")
        shadow = self._ensure()
        if structs is not None or deletes is not None:
            _check_placeable(shadow, structs or {}, deletes or {})
        shadow.seen.clear()
        try:
            shadow.doc.apply_update(update)
        except BaseException as exc:
            if not is_crdt_failure(exc):
                raise
            self._shadow = None  # the owner index never saw it: still right
            raise GuardRefused("the change cannot be read") from exc
        try:
            with shadow.doc.transaction():  # one transaction for all the reads below
                verdict = self._judge(shadow, writer)
                self._check_integrated(shadow, update)
        except GuardRefused as exc:
            self._shadow = None
            raise GuardRefused(_short(str(exc), MAX_REASON)) from None
        except Exception as exc:  # never let an odd value through unchecked
            log.warning("guard %s: could not check an update: %r", self.doc_name, exc)
            self._shadow = None
            raise GuardRefused("the change could not be checked") from exc
        finally:
            shadow.seen.clear()
        self._remember(shadow, verdict)
        for root in sorted(set(roots) - known_roots(self.doc_name)):
            verdict.note(f"root {_short(root, MAX_EVENT_ID)}", "edit")
        return [
            AuditEntry(
                at_ms=now_ms,
                participant_id=writer.participant_id,
                name=writer.name,
                role=writer.role,
                doc=self.doc_name,
                op=op,
                target=target,
                fields=tuple(sorted(fields)),
            )
            for (target, op), fields in verdict.changes.items()
        ]

    def follow(self, update: bytes) -> None:
        """An accepted update that was not checked (unknown roots only, another process's
        update, a server edit): keep the shadow, and its owner index, current."""
        shadow = self._shadow
        if shadow is None:
            self._owners = None  # changed unseen: rebuilt with the shadow
            return
        shadow.seen.clear()
        try:
            shadow.doc.apply_update(update)
            verdict = _Verdict()
            for root, event in shadow.seen:
                part = self._part(root)
                if isinstance(part, Collection) and part.owned and isinstance(event, MapEvent):
                    if not _path(event):
                        self._index_root_change(event, verdict)
            self._remember(shadow, verdict)
        except Exception as exc:
            log.warning("guard %s: shadow lost track, rebuilding: %r", self.doc_name, exc)
            self.reset()
        finally:
            shadow.seen.clear()

    def reset(self) -> None:
        """Mark the shadow stale: the next check rebuilds it from the room."""
        self._shadow = None
        self._owners = None

    # --- building the shadow --------------------------------------------------------

    def _ensure(self) -> _Shadow:
        if self._shadow is None:
            self._shadow = self._build()
        return self._shadow

    def _build(self) -> _Shadow:
        doc: Doc[Any] = Doc()
        for update in self._base():
            doc.apply_update(update)
        known = self._owners
        shadow = _Shadow(doc=doc, seen=[], owners={} if known is None else known)
        for part in self._parts:
            root: Map[Any] | Text = (
                doc.get(part.root, type=Map)
                if isinstance(part, Collection)
                else doc.get(part.root, type=Text)
            )
            shadow.roots[part.root] = root
            shadow.subscriptions.append(root.observe_deep(_recorder(shadow.seen, part.root)))
            if isinstance(part, Collection) and part.owned and known is None:
                assert isinstance(root, Map)
                with doc.transaction():
                    for key in list(root.keys()):
                        shadow.owners[key] = _owner_of(root[key])
        self._owners = shadow.owners
        return shadow

    def _part(self, root: str) -> Collection | TextRoot | None:
        for part in self._parts:
            if part.root == root:
                return part
        return None

    # --- judging --------------------------------------------------------------------

    def _judge(self, shadow: _Shadow, writer: Writer) -> _Verdict:
        verdict = _Verdict()
        grown: set[str] = set()
        for root, event in shadow.seen:
            part = self._part(root)
            if isinstance(part, Collection):
                if not isinstance(event, MapEvent):  # inside a nested type of older data
                    raise GuardRefused(f"{part.noun} fields must be plain values")
                if self._judge_collection(part, event, shadow, writer, verdict):
                    grown.add(part.root)
            elif isinstance(part, TextRoot):
                if not isinstance(event, TextEvent):
                    raise GuardRefused(f"{part.target} must be plain text")
                self._judge_text(part, event, shadow, verdict)
        for name in grown:
            part = self._part(name)
            assert isinstance(part, Collection)
            if len(shadow.roots[name]) > part.max_items:
                raise GuardRefused(f"at most {part.max_items} {part.noun}s")
        return verdict

    def _judge_collection(
        self,
        part: Collection,
        event: MapEvent,
        shadow: _Shadow,
        writer: Writer,
        verdict: _Verdict,
    ) -> bool:
        """Judge one map event under ``part``'s root; True when entries were added."""
        keys = _keys(event)  # empty: nothing visible changed
        path = _path(event)
        if len(path) > 1:
            raise GuardRefused(f"{part.noun} fields must be plain values")
        if len(path) == 1:  # keys of one entry changed
            entry = str(path[0])
            where = f"{part.noun} {_short(entry)}"
            self._may_change(part, entry, shadow, writer, where)
            for name, change in keys.items():
                if name in part.curated and writer.role not in ANY_ENTRY:
                    raise GuardRefused(f"{where}: only the moderator or scribe may set {name}")
                if name == "by" and part.owned and (
                    change.get("action") == "delete"
                    or change.get("newValue") != shadow.owners.get(entry)
                ):
                    raise GuardRefused(f"{where}: its author (by) cannot change")
                if name == "id" and change.get("action") != "delete":
                    if change.get("newValue") != entry:
                        raise GuardRefused(f"{where}: id must equal its key")
                if change.get("action") != "delete":
                    _check_field(part, where, name, change.get("newValue"))
            verdict.note(f"{part.noun} {entry}", "edit", keys)
            return False
        added = False
        for entry, change in keys.items():
            where = f"{part.noun} {_short(entry)}"
            action = change.get("action")
            if action == "delete":
                self._may_change(part, entry, shadow, writer, where)
                verdict.note(f"{part.noun} {entry}", "delete")
                verdict.gone.add(entry)
                continue
            if not entry or len(entry) > part.max_key:
                raise GuardRefused(f"{part.noun} ids are 1 to {part.max_key} characters")
            value = change.get("newValue")
            if not isinstance(value, Map):
                raise GuardRefused(f"{where} must be a map of fields")
            fields = _check_entry(part, entry, where, value)
            if writer.role not in ANY_ENTRY and any(value.get(n) for n in part.curated):
                raise GuardRefused(f"{where}: only the moderator or scribe may set what is curated")
            owner = _owner_of(value)
            if action == "add":
                if part.owned and owner != writer.participant_id:
                    raise GuardRefused(f"{where}: by must be your own participant id")
                verdict.note(f"{part.noun} {entry}", "add", fields)
                added = True
            else:  # replaced as a whole: an edit of the old entry, same author
                self._may_change(part, entry, shadow, writer, where)
                if part.owned and owner != shadow.owners.get(entry):
                    raise GuardRefused(f"{where}: its author (by) cannot change")
                verdict.note(f"{part.noun} {entry}", "edit", fields)
            if part.owned:
                verdict.owners[entry] = owner
                verdict.gone.discard(entry)
        return added

    @staticmethod
    def _may_change(
        part: Collection, entry: str, shadow: _Shadow, writer: Writer, where: str
    ) -> None:
        if not part.owned or writer.role in ANY_ENTRY:
            return
        owner = shadow.owners.get(entry)
        if owner is None:
            raise GuardRefused(f"{where} has no author: only the moderator or scribe may change it")
        if owner != writer.participant_id:
            raise GuardRefused(f"{where} was added by someone else: only its author may change it")

    @staticmethod
    def _judge_text(part: TextRoot, event: TextEvent, shadow: _Shadow, verdict: _Verdict) -> None:
        if _path(event):
            raise GuardRefused(f"{part.target} must be plain text")
        delta: list[dict[str, Any]] = getattr(event, "delta", None) or []
        for op in delta:
            if "attributes" in op:
                raise GuardRefused(f"{part.target} must be plain text (no formatting)")
            if "insert" in op and not isinstance(op["insert"], str):
                raise GuardRefused(f"{part.target} must be plain text (no embedded values)")
        if not delta:
            return
        text = shadow.roots[part.root]
        # len() counts UTF-8 bytes: only a long text needs the exact character count
        if len(text) > part.limit and len(str(text)) > part.limit:
            raise GuardRefused(f"{part.target} is limited to {part.limit} characters")
        verdict.note(part.target, "edit")

    @staticmethod
    def _check_integrated(shadow: _Shadow, update: bytes) -> None:
        """Refuse what the shadow could not integrate: structs or deletions that wait for
        changes the server does not have would land unchecked, under a later writer."""
        state = shadow.doc.get_state()
        rest = get_update(update, state)
        if rest == _NOTHING_LEFT:  # the usual case: all integrated, nothing deleted
            return
        reader = Reader(rest)
        if reader.var_uint() != 0:
            raise GuardRefused("the change builds on changes the server does not have")
        known = decode_state_vector(state)
        for _ in range(reader.var_uint()):
            client = reader.var_uint()
            for _ in range(reader.var_uint()):
                clock, length = reader.var_uint(), reader.var_uint()
                if length and clock + length > known.get(client, 0):
                    raise GuardRefused("the change deletes what the server does not have")

    def _index_root_change(self, event: MapEvent, verdict: _Verdict) -> None:
        for entry, change in _keys(event).items():
            if change.get("action") == "delete":
                verdict.gone.add(entry)
            else:
                verdict.owners[entry] = _owner_of(change.get("newValue"))
                verdict.gone.discard(entry)

    @staticmethod
    def _remember(shadow: _Shadow, verdict: _Verdict) -> None:
        for entry in verdict.gone:
            shadow.owners.pop(entry, None)
        shadow.owners.update(verdict.owners)


def _check_placeable(
    shadow: _Shadow,
    structs: Mapping[int, tuple[int, int]],
    deletes: Mapping[int, Sequence[tuple[int, int]]],
) -> None:
    """Refuse, without applying it, an update with a gap after what the shadow has."""
    state = decode_state_vector(shadow.doc.get_state())
    known = dict(state)
    for client, (first, end) in structs.items():
        have = state.get(client, 0)
        if first > have:
            raise GuardRefused("the change builds on changes the server does not have")
        known[client] = max(have, end)
    for client, ranges in deletes.items():
        have = known.get(client, 0)
        if any(end > have for _, end in ranges):
            raise GuardRefused("the change deletes what the server does not have")


def _check_field(part: Collection, where: str, name: str, value: Any) -> None:
    check = part.fields.get(name)
    if check is None:
        raise GuardRefused(f"{where}: unknown field {_short(name, 30)!r}")
    problem = check(value)
    if problem is not None:
        raise GuardRefused(f"{where}: {name} {problem}")


def _check_entry(part: Collection, entry: str, where: str, value: Map[Any]) -> list[str]:
    """Check every field of a new entry, one key at a time; returns its keys."""
    names = list(value.keys())
    for name in names:
        if name not in part.fields:
            raise GuardRefused(f"{where}: unknown field {_short(name, 30)!r}")
    for name in names:
        field_value = value[name]
        if name == "id" and field_value != entry:
            raise GuardRefused(f"{where}: id must equal its key")
        _check_field(part, where, name, field_value)
    return names


def _keys(event: MapEvent) -> dict[str, dict[str, Any]]:
    keys = getattr(event, "keys", None)  # None when only invisible items changed
    return keys if isinstance(keys, dict) else {}


def _path(event: MapEvent | TextEvent) -> list[Any]:
    return list(getattr(event, "path", None) or [])


def _recorder(seen: list[tuple[str, Any]], root: str) -> Callable[[list[Any]], None]:
    def record(events: list[Any]) -> None:
        seen.extend((root, event) for event in events)

    return record


def _owner_of(value: Any) -> str | None:
    """The `by` of an entry; None for entries without one (imported, older data)."""
    if not isinstance(value, Map):
        return None
    by = value.get("by")
    return by if isinstance(by, str) else None
