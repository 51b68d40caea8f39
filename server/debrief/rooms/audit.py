"""Audit entries for accepted changes to the client-written docs, and their coalescing
before storage (what the guard reports; rooms/room.py stores them)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

AUDIT_COALESCE_MS = 60_000  # edits of one target by one person within this become one entry


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
