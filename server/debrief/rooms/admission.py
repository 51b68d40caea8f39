"""Who may write what: the checks a client's update passes before its room queues it.

After the scan (rooms/room.py, before anything decodes the update): the Yjs client ids
it creates structs under must be the writer's (rooms/client_ids.py), and a write to
`timeline` or `recap` must keep the documented schema and the writer's rights
(rooms/guard.py, on a shadow doc). What passes leaves audit entries, written to storage
in batches; a peer whose writes keep being refused is told to stop.
"""

from __future__ import annotations

import secrets
import time
import weakref
from collections.abc import Callable
from typing import Any

from debrief.protocol.scan import UpdateSummary
from debrief.rooms.audit import AuditTrail
from debrief.rooms.client_ids import ClientIds
from debrief.rooms.guard import DocGuard, GuardRefused, Writer
from debrief.storage.base import Storage

AUDIT = "audit"  # record kind: who changed what in `timeline` and `recap`
GUARDED_DOCS = ("timeline", "recap")  # client-written docs with a schema (docs/shared-docs.md)
WRITTEN_BY_CLIENTS = GUARDED_DOCS  # `room` is the server's alone: no client id to bind there
MAX_REFUSALS, REFUSAL_WINDOW_S = 5, 60.0  # refused writes a peer may send in the window


class WriteAdmission:
    """The write checks of one room (one doc)."""

    def __init__(
        self,
        storage: Storage,
        key: str,
        server_client_id: int,
        shadow_base: Callable[[], list[bytes]],
    ) -> None:
        self.storage = storage
        self.review_id, _, self.doc_name = key.rpartition("/")
        self.client_ids = ClientIds(storage, key, server_client_id)
        self.guard: DocGuard | None = (
            DocGuard(self.doc_name, shadow_base) if self.doc_name in GUARDED_DOCS else None
        )
        self.audit = AuditTrail()
        self._refusals: weakref.WeakKeyDictionary[Any, list[float]] = weakref.WeakKeyDictionary()

    async def load(self) -> None:
        if self.doc_name in WRITTEN_BY_CLIENTS:
            await self.client_ids.load()

    def close(self) -> None:
        """The room is unloaded: the guard calls back into it (its shadow is rebuilt
        from the room's doc), so let go of it and nothing leads back to the room."""
        self.guard = None

    async def check(
        self,
        user: dict[str, Any],
        update: bytes,
        summary: UpdateSummary,
        state: Callable[[], dict[int, int]],
    ) -> str | None:
        """None when a writable peer's ``update`` may be queued, else why not.

        ``state`` gives the doc's state vector: needed only when the update names client
        ids not known to be the writer's (new structs under them must be claimed).
        """
        participant = str(user.get("id", ""))
        owner = self.client_ids.known_owner
        others = [c for c in summary.structs if owner(c) != participant]
        if others:
            current = state()
            fresh = [c for c in others if summary.structs[c][1] > current.get(c, 0)]
            if fresh and not await self.client_ids.claim(fresh, participant, current):
                return "this Yjs client id belongs to someone else: reload for a new one"
        return self._check_schema(user, update, summary)

    def _check_schema(
        self, user: dict[str, Any], update: bytes, summary: UpdateSummary
    ) -> str | None:
        guard = self.guard
        if guard is None:
            return None
        if not DocGuard.needs_check(
            self.doc_name, summary.roots, summary.unrooted, bool(summary.deletes)
        ):
            guard.follow(update)
            return None
        writer = Writer(str(user.get("id", "")), str(user.get("name", "")), str(user.get("role")))
        try:
            entries = guard.check(
                update,
                writer,
                time.time_ns() // 1_000_000,
                roots=summary.roots,
                structs=summary.structs,
                deletes=summary.deletes,
            )
        except GuardRefused as exc:
            return str(exc)
        self.audit.add(entries)
        return None

    def follow(self, update: bytes) -> None:
        """An update the room takes without a check (a server edit, another process's):
        the guard's shadow doc must still see it."""
        if self.guard is not None:
            self.guard.follow(update)

    def too_many_refusals(self, peer: object) -> bool:
        """Count a refusal; True once ``peer`` has had MAX_REFUSALS in the window.

        A refusal can cost a rebuild of the guard's shadow doc: a peer that keeps
        sending refused writes is closed rather than allowed to spend the loop."""
        now = time.monotonic()
        recent = [t for t in self._refusals.get(peer, ()) if now - t < REFUSAL_WINDOW_S]
        recent.append(now)
        self._refusals[peer] = recent
        return len(recent) >= MAX_REFUSALS

    async def write_audit(self, *, force: bool = False) -> None:
        """Store the audit entries that are ready (all of them with ``force``)."""
        for entry in self.audit.drain(force=force):
            record_id = f"{self.review_id}:{entry.at_ms:013d}:{secrets.token_hex(4)}"
            await self.storage.put_record(AUDIT, record_id, entry.to_record(), self.review_id)
