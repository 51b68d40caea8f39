"""Schema and permission guard for the client-written docs (``timeline``, ``recap``).

A CRDT update cannot be partly refused, and what an update changes (a map key it
overwrites, the owner of an event it deletes) is only known against the doc it lands
on. So each candidate update is applied to a *shadow*: a private pycrdt Doc mirroring
the room's doc plus its accepted-but-unwritten updates. Deep observers on the known
roots report what changed; that is checked against docs/shared-docs.md and the
writer's rights. A refused update leaves the shadow stale (rebuilt lazily from the
room); an accepted one stays in it and comes back as audit entries. Every accepted
update that was not checked must still reach the shadow (``follow``).

Nothing here calls ``to_py()`` on a root or on a value of unexpected type: values are
read one key at a time and type-checked (nested types come back as Map/Array/Text
objects, JSON values as Python values, numbers possibly as floats).
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pycrdt import Doc, Map, MapEvent, Subscription, Text, TextEvent, get_update

from debrief.meeting.texts import ACTION_KIND_LABELS, EVENT_SOURCE_LABELS, MARKER_LABELS
from debrief.protocol.errors import is_crdt_failure
from debrief.protocol.messages import Reader
from debrief.protocol.updates import decode_state_vector

log = logging.getLogger(__name__)

TIMELINE, RECAP = "timeline", "recap"
MODERATOR, SCRIBE, PARTICIPANT = "moderator", "scribe", "participant"

# --- limits (documented in docs/shared-docs.md, "What the server refuses") ----------
MAX_EVENTS = 2_000  # events in `timeline.events`
MAX_EVENT_ID = 100  # chars of an event id (the map key)
MAX_EVENT_TIME = 40  # chars of `time`
MAX_EVENT_TEXT = 2_000  # chars of `text`
MAX_LINK = 2_048  # chars of `link`
MAX_MARKERS = 10  # entries of `markers`
MAX_BY = 100  # chars of `by` (a participant id)
MAX_ACTIONS = 500  # actions in `recap.actions`
MAX_ACTION_ID = 100  # chars of an action id (the map key)
MAX_ACTION_WHAT = 500
MAX_ACTION_OWNER = 200
MAX_ACTION_VERIFY = 500
MAX_RECAP_TEXT = 100_000  # chars of `recap.text` after the change
MAX_FOLLOWUPS = 20_000  # chars of `recap.followups` after the change
AUDIT_COALESCE_MS = 60_000  # edits of one target by one person within this become one entry
MAX_REASON = 160  # chars of a refusal reason sent to the client

EVENT_SOURCES = frozenset(EVENT_SOURCE_LABELS)
MARKERS = frozenset(MARKER_LABELS)
ACTION_KINDS = frozenset(ACTION_KIND_LABELS)

# What the web app writes (Date.toISOString without ".000"), what the importers write
# (seconds, milliseconds when not zero), and the 6-digit years toISOString gives
# beyond 9999. Linear: no nested quantifiers, and the input is at most 40 chars.
_TIME_RE = re.compile(
    r"(?:[+-]\d{6}|\d{4})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?Z"
)
_DATE_RE = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_NOTHING_LEFT = b"\x00\x00"  # an update without structs and without deletions


class GuardRefused(Exception):
    """The update breaks the schema or the writer's rights; ``str(exc)`` is the short
    reason sent to the client with the permission-denied message."""


@dataclass(frozen=True, slots=True)
class Writer:
    participant_id: str
    name: str
    role: str  # "moderator" | "scribe" | "participant"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at_ms: int
    participant_id: str
    name: str
    role: str
    doc: str  # "timeline" | "recap"
    op: str  # "add" | "edit" | "delete"
    target: str  # "event <id>", "action <id>", "recap text", "follow-ups", "root <name>"
    fields: tuple[str, ...]  # keys changed (sorted), () for text and deletes

    def to_record(self) -> dict[str, Any]:
        """JSON-ready; stored as a record of kind "audit"."""
        return {
            "at_ms": self.at_ms,
            "participant_id": self.participant_id,
            "name": self.name,
            "role": self.role,
            "doc": self.doc,
            "op": self.op,
            "target": self.target,
            "fields": list(self.fields),
        }


# --- field checks: value -> problem text, or None when fine ------------------------

Check = Callable[[Any], str | None]


def _text(limit: int) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be text"
        if len(value) > limit:
            return f"is longer than {limit} characters"
        return None

    return check


def _choice(allowed: frozenset[str]) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or (value and value not in allowed):
            return "is not one of the documented values"
        return None

    return check


def _pattern(regex: re.Pattern[str], limit: int, shape: str) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or len(value) > limit:
            return f"must be {shape} or empty"
        if value and regex.fullmatch(value) is None:
            return f"must be {shape} or empty"
        return None

    return check


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return None


def _link(value: Any) -> str | None:
    problem = "must be an http(s) link or empty"
    if not isinstance(value, str) or len(value) > MAX_LINK:
        return f"{problem} (at most {MAX_LINK} characters)"
    if not value:
        return None
    if _CONTROL_RE.search(value) or value != value.strip():
        return problem
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return problem
    if parts.scheme.lower() not in ("http", "https") or not host:
        return problem
    return None


def _markers(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) > MAX_MARKERS:
        return f"must be a list of at most {MAX_MARKERS} markers"
    if not all(isinstance(m, str) and m in MARKERS for m in value):
        return "must hold only documented markers"
    if len(set(value)) != len(value):
        return "must not repeat a marker"
    return None


@dataclass(frozen=True)
class _Collection:
    """A root Map of id -> Y.Map with documented keys (timeline events, actions)."""

    root: str
    noun: str  # "event" | "action": audit targets and reasons
    max_items: int
    max_key: int
    fields: dict[str, Check]
    owned: bool  # entries carry `by`: participants change only their own


EVENTS = _Collection(
    root="events",
    noun="event",
    max_items=MAX_EVENTS,
    max_key=MAX_EVENT_ID,
    fields={
        "id": _text(MAX_EVENT_ID),
        "time": _pattern(_TIME_RE, MAX_EVENT_TIME, "an ISO 8601 UTC time ending in Z"),
        "text": _text(MAX_EVENT_TEXT),
        "source": _choice(EVENT_SOURCES),
        "link": _link,
        "markers": _markers,
        "created_ms": _number,
        "by": _text(MAX_BY),
    },
    owned=True,
)
ACTIONS = _Collection(
    root="actions",
    noun="action",
    max_items=MAX_ACTIONS,
    max_key=MAX_ACTION_ID,
    fields={
        "id": _text(MAX_ACTION_ID),
        "what": _text(MAX_ACTION_WHAT),
        "owner": _text(MAX_ACTION_OWNER),
        "due": _pattern(_DATE_RE, 10, "a date like 2025-03-31"),
        "verify": _text(MAX_ACTION_VERIFY),
        "kind": _choice(ACTION_KINDS),
        "created_ms": _number,
    },
    owned=False,
)


@dataclass(frozen=True)
class _TextRoot:
    root: str
    target: str  # audit target
    limit: int


RECAP_TEXT = _TextRoot("text", "recap text", MAX_RECAP_TEXT)
FOLLOWUPS = _TextRoot("followups", "follow-ups", MAX_FOLLOWUPS)

_SCHEMA: dict[str, tuple[_Collection | _TextRoot, ...]] = {
    TIMELINE: (EVENTS,),
    RECAP: (RECAP_TEXT, FOLLOWUPS, ACTIONS),
}
_WRITERS = {
    TIMELINE: frozenset({MODERATOR, SCRIBE, PARTICIPANT}),
    RECAP: frozenset({MODERATOR, SCRIBE}),
}
_ANY_ENTRY = frozenset({MODERATOR, SCRIBE})  # may change entries that are not theirs


def known_roots(doc_name: str) -> frozenset[str]:
    return frozenset(part.root for part in _SCHEMA.get(doc_name, ()))


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
        self._parts = _SCHEMA.get(doc_name, ())
        self._shadow: _Shadow | None = None
        # Event id -> `by` of the room's doc (+ pending). Kept when a refused update
        # spoils the shadow (a refusal never reaches the room), which halves the rebuild.
        self._owners: dict[str, str | None] | None = None

    @staticmethod
    def needs_check(doc_name: str, roots: set[str], unrooted: bool, has_deletes: bool) -> bool:
        """False only for an update that can touch nothing the schema defines: its items
        name as explicit parents only roots the schema does not know (a client's own
        map), none has a parent given by id, and it deletes nothing."""
        if doc_name not in _SCHEMA:
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
        if writer.role not in _WRITERS.get(self.doc_name, frozenset()):
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
                if isinstance(part, _Collection) and part.owned and isinstance(event, MapEvent):
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
                if isinstance(part, _Collection)
                else doc.get(part.root, type=Text)
            )
            shadow.roots[part.root] = root
            shadow.subscriptions.append(root.observe_deep(_recorder(shadow.seen, part.root)))
            if isinstance(part, _Collection) and part.owned and known is None:
                assert isinstance(root, Map)
                with doc.transaction():
                    for key in list(root.keys()):
                        shadow.owners[key] = _owner_of(root[key])
        self._owners = shadow.owners
        return shadow

    def _part(self, root: str) -> _Collection | _TextRoot | None:
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
            if isinstance(part, _Collection):
                if not isinstance(event, MapEvent):  # inside a nested type of older data
                    raise GuardRefused(f"{part.noun} fields must be plain values")
                if self._judge_collection(part, event, shadow, writer, verdict):
                    grown.add(part.root)
            elif isinstance(part, _TextRoot):
                if not isinstance(event, TextEvent):
                    raise GuardRefused(f"{part.target} must be plain text")
                self._judge_text(part, event, shadow, verdict)
        for name in grown:
            part = self._part(name)
            assert isinstance(part, _Collection)
            if len(shadow.roots[name]) > part.max_items:
                raise GuardRefused(f"at most {part.max_items} {part.noun}s")
        return verdict

    def _judge_collection(
        self,
        part: _Collection,
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
        part: _Collection, entry: str, shadow: _Shadow, writer: Writer, where: str
    ) -> None:
        if not part.owned or writer.role in _ANY_ENTRY:
            return
        owner = shadow.owners.get(entry)
        if owner is None:
            raise GuardRefused(f"{where} has no author: only the moderator or scribe may change it")
        if owner != writer.participant_id:
            raise GuardRefused(f"{where} was added by someone else: only its author may change it")

    @staticmethod
    def _judge_text(part: _TextRoot, event: TextEvent, shadow: _Shadow, verdict: _Verdict) -> None:
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


def _check_field(part: _Collection, where: str, name: str, value: Any) -> None:
    check = part.fields.get(name)
    if check is None:
        raise GuardRefused(f"{where}: unknown field {_short(name, 30)!r}")
    problem = check(value)
    if problem is not None:
        raise GuardRefused(f"{where}: {name} {problem}")


def _check_entry(part: _Collection, entry: str, where: str, value: Map[Any]) -> list[str]:
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


# --- coalescing before storage ------------------------------------------------------


class AuditTrail:
    """Entries waiting to be stored. Repeated edits of one target by one person within
    ``window_ms`` of the first become one entry (fields merged, time of the first), so
    typing does not store a record per keystroke."""

    def __init__(self, window_ms: int = AUDIT_COALESCE_MS) -> None:
        self.window_ms = window_ms
        self._waiting: list[AuditEntry] = []
        self._open: dict[tuple[str, str, str], int] = {}  # (doc, target, who) -> index

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, entries: Iterable[AuditEntry]) -> None:
        for entry in entries:
            key = (entry.doc, entry.target, entry.participant_id)
            at = self._open.get(key)
            if entry.op != "edit":
                self._open.pop(key, None)  # an add/delete ends the run of edits
                self._waiting.append(entry)
                continue
            if at is not None:
                first = self._waiting[at]
                if entry.at_ms - first.at_ms < self.window_ms:
                    merged = tuple(sorted(set(first.fields) | set(entry.fields)))
                    if merged != first.fields:
                        self._waiting[at] = _with_fields(first, merged)
                    continue
            self._open[key] = len(self._waiting)
            self._waiting.append(entry)

    def drain(self, now_ms: int | None = None, *, force: bool = False) -> list[AuditEntry]:
        """Entries ready to store, in order: adds, deletes and edits whose window has
        passed (``now_ms``: server time, default the clock); all with ``force``."""
        if force:
            everything, self._waiting, self._open = self._waiting, [], {}
            return everything
        now = int(time.time() * 1000) if now_ms is None else now_ms
        open_at = set(self._open.values())
        ready: list[AuditEntry] = []
        keep: list[AuditEntry] = []
        for index, entry in enumerate(self._waiting):
            still_open = index in open_at and now - entry.at_ms < self.window_ms
            (keep if still_open else ready).append(entry)
        self._waiting = keep
        self._open = {
            (e.doc, e.target, e.participant_id): index
            for index, e in enumerate(keep)  # every kept entry is an open edit
        }
        return ready


def _with_fields(entry: AuditEntry, fields: tuple[str, ...]) -> AuditEntry:
    return AuditEntry(
        at_ms=entry.at_ms,
        participant_id=entry.participant_id,
        name=entry.name,
        role=entry.role,
        doc=entry.doc,
        op=entry.op,
        target=entry.target,
        fields=fields,
    )
