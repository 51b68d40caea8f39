"""How many notes a review holds: in all, per author, and hidden per section.

Kept in one record per review and written with the note it counts in one step
(`Storage.put_records`), under the review's lock, so that a new note reads this one small
record instead of every note of the review. A delete drops the record first and then
stores the notes counted afresh (a crash in between leaves none: the next note counts
afresh, as a review whose notes predate the tally does once).

Everyone sees the hidden counts in the server's awareness entry of the `room` doc
(notes.py), not in the doc: the tally's ``clock`` orders what is shown there, across
processes and after restarts (a higher clock replaces a lower one).

It also keeps which sections are revealed (the reveal writes it with the doc that shows
them, in one step), so a new note learns whether it is shown at once without reading
the room doc. A tally without them (counted afresh, or stored by an older version)
says None: the note reads them from the doc once, and the tally keeps them from then on.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

NOTE_TALLY = "note-tally"  # record kind; its id is the review's
# Awareness clocks are JavaScript numbers on the clients, exact below 2^53. A stored clock
# at or above this one is none the server wrote (microseconds since 1970 reach it in 2112):
# read as none, so that the ticks after it stay exact.
MAX_CLOCK = 2**52


@dataclass
class NoteTally:
    total: int = 0
    owners: dict[str, int] = field(default_factory=dict)  # participant id -> notes
    hidden: dict[str, int] = field(default_factory=dict)  # section -> unrevealed notes
    revealed: set[str] | None = None  # sections revealed; None: not known here
    # Orders the counts shown: above every clock shown before (of this tally or of one
    # counted afresh since: those start from the time). 0: not shown yet.
    clock: int = 0

    @classmethod
    def counting(cls, records: Iterable[Mapping[str, Any]]) -> NoteTally:
        tally = cls()
        for record in records:
            tally.add(record)
        return tally

    @classmethod
    def from_record(cls, data: Mapping[str, Any] | None) -> NoteTally | None:
        """The stored tally, or None when there is none or it is not of this shape (then
        the caller counts afresh: a bad record costs a recount, never the review)."""
        if not isinstance(data, Mapping):
            return None
        total, owners, hidden = data.get("total"), data.get("owners"), data.get("hidden")
        if not (
            type(total) is int
            and isinstance(owners, dict)
            and isinstance(hidden, dict)
            and all(type(n) is int for n in (*owners.values(), *hidden.values()))
        ):
            return None
        kept = data.get("revealed")
        revealed: set[str] | None = None
        if isinstance(kept, list) and all(isinstance(section, str) for section in kept):
            revealed = set(kept)
        clock = data.get("clock")
        if not (type(clock) is int and 0 <= clock < MAX_CLOCK):
            clock = 0  # none yet (an older version's), or not one a Yjs client can read
        return cls(total, dict(owners), dict(hidden), revealed, clock)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"total": self.total, "owners": self.owners, "hidden": self.hidden}
        if self.revealed is not None:
            record["revealed"] = sorted(self.revealed)
        if self.clock:
            record["clock"] = self.clock
        return record

    def tick(self) -> int:
        """A new clock for counts that changed: above this tally's last, and at least the
        time in microseconds, so a tally counted afresh (after a delete, or in a data
        directory that had none) still shows over whatever was shown before it."""
        self.clock = max(self.clock + 1, time.time_ns() // 1000)
        return self.clock

    def shown(self) -> dict[str, Any]:
        """The server's awareness state for these counts: section -> hidden notes."""
        return {"note_counts": dict(self.hidden)}

    def add(self, record: Mapping[str, Any]) -> None:
        self.total += 1
        owner = record["owner"]
        self.owners[owner] = self.owners.get(owner, 0) + 1
        if not record.get("revealed"):
            self.hidden[record["kind"]] = self.hidden.get(record["kind"], 0) + 1
