"""The stateful side of the meeting engine: storage records plus the review's shared docs.

Every effect on a shared doc goes through `Room.edit`, whose change function runs
synchronously inside one transaction: it reads the current state, validates, and only
then writes, so a refused command never leaves half a change behind and two commands in
one process never interleave their read-modify-write. Work that spans storage records
and a doc (notes, sign-offs) also holds the review's lock.

Layout of the docs: docs/shared-docs.md.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from pycrdt import Doc, Map

from debrief.auth.roles import DocName, doc_key
from debrief.rooms import RoomManager
from debrief.rooms.peer import Peer
from debrief.storage.base import RecordWrite, Storage

from . import agenda as ag
from . import discussion
from . import review as rv
from . import timer as tm
from .errors import Conflict, NotFound
from .gate import ReviewGate
from .held import HeldChanges
from .note_tally import NoteTally

# Same record kind as the core API (http/api.py REVIEW); the domain must not import http.
REVIEW = "review"
NOTE = "note"
SIGNOFF = "signoff"
FROZEN_RECAP = "recap-version"

T = TypeVar("T")
log = logging.getLogger(__name__)
# Told of every saved review record and its agenda template (the team's reviews index).
ReviewSaved = Callable[[dict[str, Any], str], Awaitable[None]]

# API field name -> key in the `room` doc's `review` map (the doc uses short names).
_DOC_KEYS = {"baseline_metrics": "metrics", "evidence_links": "links"}
PUBLIC_REVIEW_KEYS = (
    "id",
    "title",
    "status",
    "scope",
    "baseline_metrics",
    "evidence_links",
    "settings",
    "questionnaire",
    "version",
    "close_reason",
    "schedule",
    "attendees",
)


@dataclass
class GateHeld:
    """The review as a command read it, while that command holds the review's gate.

    In one process only close changes a review's status, and close takes the gate alone:
    while a command holds it (``live``), the review it read inside it cannot be closed,
    so a backend used by this process alone need not read it again to check. Set by the
    command frame (http/commands.py) for the task running the command; ``live`` is
    cleared when the command leaves the gate (tasks it started see that too).
    """

    review_id: str
    review: dict[str, Any]
    live: bool = True


gate_held: ContextVar[GateHeld | None] = ContextVar("debrief_gate_held", default=None)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def is_frozen(review: Mapping[str, Any] | None) -> bool:
    """True once a review is closed: every doc is read-only for every role."""
    return review is not None and rv.is_read_only(review)


def closed_refusal() -> Conflict:
    return Conflict("this review is closed and can no longer be changed", error="review-closed")


def full_review(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored review with every field present (the core API stores only a few)."""
    base = rv.new_review(record.get("title") or "Untitled review")
    full = {**base, "version": None, "close_reason": "", **record}
    full["settings"] = {**rv.DEFAULT_SETTINGS, **(record.get("settings") or {})}
    return full


def public_review(review: Mapping[str, Any]) -> dict[str, Any]:
    return {key: review.get(key) for key in PUBLIC_REVIEW_KEYS}


def write_review(doc: Doc, review: Mapping[str, Any]) -> None:
    """Mirror the public review fields into the `room` doc's `review` map."""
    target = doc.get("review", type=Map)
    for key, value in public_review(review).items():
        name = _DOC_KEYS.get(key, key)
        if target.get(name) != value:
            target[name] = value


def initial_meeting(
    template: str = ag.DEFAULT_TEMPLATE, *, open_actions: bool = False
) -> dict[str, Any]:
    return {
        "agenda": ag.agenda_to_list(ag.build_agenda(template, open_actions=open_actions)),
        "template": template,
        "phase_id": None,
        "timer": tm.idle().to_dict(),
        "elmo": {"count": 0, "last_ms": None},
        "hands": [],
        "speaking": idle_speaking(),
        "leaders": [],
        "signoffs": 0,
        "revealed": {},
        "discussion": discussion.idle(),
    }


def idle_speaking() -> dict[str, Any]:
    return {"active": False, "order": [], "index": 0, "current": None, "skipped": []}


MEETING_KEYS = frozenset(initial_meeting())


def revealed_sections(doc: Doc) -> frozenset[str]:
    """The sections whose notes the room doc shows (the server alone writes it)."""
    revealed = doc.get("meeting", type=Map).get("revealed")
    if not isinstance(revealed, dict):
        return frozenset()
    return frozenset(section for section, shown in revealed.items() if shown)


def meeting_state(doc: Doc) -> dict[str, Any]:
    """The `meeting` map as plain data (defaults filled in for keys never written)."""
    state: dict[str, Any] = doc.get("meeting", type=Map).to_py() or {}
    if MEETING_KEYS <= state.keys():  # the usual case: no default agenda to build
        return state
    return {**initial_meeting(), **state}


def meeting_value(doc: Doc, key: str) -> Any:
    """One key of the `meeting` map (its default if never written), without copying the
    rest of the map (the agenda above all)."""
    value = doc.get("meeting", type=Map).get(key)
    return initial_meeting()[key] if value is None and key not in MEETING_NULLABLE else value


MEETING_NULLABLE = frozenset(k for k, v in initial_meeting().items() if v is None)


class MeetingService:
    """Shared by every request (kept on app.state); its per-review locks live in storage."""

    def __init__(
        self, storage: Storage, rooms: RoomManager, hold_s: tuple[float, float] = (20.0, 60.0)
    ) -> None:
        self.storage = storage
        self.rooms = rooms
        # Commands share a review's gate, close takes it alone (see gate.py).
        self.gate = ReviewGate()
        # Changes after a reveal that would name their author by their timing (held.py).
        self.held = HeldChanges(self._publish_held, hold_s)
        # Set by the app (http/meeting_access.py); the meeting engine knows nothing of teams.
        self.on_review_saved: ReviewSaved | None = None

    async def _publish_held(self, review_id: str) -> None:
        from .publication import publish_held  # it builds on this module

        await publish_held(self, review_id)

    def lock(self, review_id: str) -> contextlib.AbstractAsyncContextManager[None]:
        # Serialises record+doc changes of one review, across processes in Redis mode.
        return self.storage.lock(f"review:{review_id}")

    # --- reviews -------------------------------------------------------------------

    async def review(self, review_id: str) -> dict[str, Any]:
        return await self.review_from(review_id, await self.storage.get_record(REVIEW, review_id))

    async def review_from(self, review_id: str, record: dict[str, Any] | None) -> dict[str, Any]:
        """The review of a stored record the caller read itself (NotFound when None)."""
        if record is None:
            raise NotFound("there is no review with this id", error="unknown-review")
        if "settings" not in record:  # created by the core API: fill in the room doc once
            return await self.initialize(record)
        return full_review(record)

    def held_review(self, review_id: str) -> dict[str, Any] | None:
        """The review as this command read it under the review's gate, when that still
        tells whether it is closed (see GateHeld); None: read it from storage."""
        held = gate_held.get()
        if held is None or not held.live or held.review_id != review_id or self.storage.shared:
            return None
        return held.review

    @contextlib.asynccontextmanager
    async def locked_writable(self, review_id: str) -> AsyncIterator[dict[str, Any]]:
        """Hold the review's lock; yields the review, refusing (409) when it is closed.

        Checked under the lock, which close holds too (in any process), so a change made
        inside lands before a close or not at all. The review comes from the command's own
        read when that is still good (`held_review`), else with the lock's round trip."""
        async with self.locked_reading(review_id, []) as (review, _):
            yield review

    def locked_reading(
        self, review_id: str, keys: list[tuple[str, str]]
    ) -> contextlib.AbstractAsyncContextManager[
        tuple[dict[str, Any], list[dict[str, Any] | None]]
    ]:
        """`locked_writable`, yielding also the records (kind, id) of ``keys`` as read
        under the lock (on a shared backend in the lock's own round trip)."""
        return _LockedReview(self, review_id, keys)

    async def initialize(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Store the full review and write the starting state of the `room` doc."""
        review = full_review(record)
        await self.storage.put_record(REVIEW, review["id"], review, review["id"])

        def change(doc: Doc) -> None:
            write_review(doc, review)
            meeting = doc.get("meeting", type=Map)
            # a review that carries over earlier actions starts by walking them
            start = initial_meeting(open_actions=bool(review.get("carry_over")))
            for key, value in start.items():
                if key not in meeting:
                    meeting[key] = value

        await self.edit(review["id"], DocName.ROOM, change)
        await self.review_saved(review)
        return review

    async def save_review(self, review: dict[str, Any]) -> None:
        """Store the review, then show its public fields to everyone."""
        await self.storage.put_record(REVIEW, review["id"], review, review["id"])
        held = gate_held.get()
        if held is not None and held.review_id == review["id"]:
            held.review = review  # what the rest of this command reads
        await self.edit(review["id"], DocName.ROOM, lambda doc: write_review(doc, review))
        await self.review_saved(review)

    async def review_saved(self, review: Mapping[str, Any]) -> None:
        """Tell `on_review_saved` about a stored review (after a save, a close, or a new
        agenda template). Its failure is logged, never the save's: the review is stored."""
        if self.on_review_saved is None:
            return
        try:
            template = await self.read(
                review["id"], DocName.ROOM, lambda doc: str(meeting_state(doc).get("template"))
            )
            await self.on_review_saved(dict(review), template)
        except Exception:
            log.exception("review %s was saved but its listing could not follow", review["id"])

    async def writable_review(self, review_id: str) -> dict[str, Any]:
        """The review, refusing (409) when it is closed."""
        review = self.held_review(review_id) or await self.review(review_id)
        if is_frozen(review):
            raise closed_refusal()
        return review

    # --- docs ----------------------------------------------------------------------

    async def edit(
        self,
        review_id: str,
        doc: DocName,
        change: Callable[[Doc], None],
        *,
        allow_closed: bool = False,
        checked_under_lock: bool = False,
        records: Sequence[RecordWrite] = (),
    ) -> None:
        """Run `change` on a doc durably; it must validate before its first write.
        ``records`` are stored in the same step as the change (`Room.edit`).

        A closed review's docs refuse every change (409) but closing's own: a command
        that checked the review before another process closed it still cannot write.
        A caller holding the review's lock that found it writable under that lock says
        ``checked_under_lock`` (close takes the lock too: one storage read less).
        """
        if not (allow_closed or checked_under_lock):
            review = self.held_review(review_id)
            if review is None:
                review = await self.storage.get_record(REVIEW, review_id)
            if is_frozen(review):
                raise closed_refusal()
        async with self.rooms.borrow(doc_key(review_id, doc)) as room:
            await room.edit(change, records)

    async def edit_returning(
        self,
        review_id: str,
        doc: DocName,
        change: Callable[[Doc], T],
        *,
        checked_under_lock: bool = False,
    ) -> T:
        """`edit` for changes that compute a result (e.g. the new timer state)."""
        box: list[T] = []
        await self.edit(
            review_id, doc, lambda d: box.append(change(d)), checked_under_lock=checked_under_lock
        )
        return box[0]

    async def read(self, review_id: str, doc: DocName, reader: Callable[[Doc], T]) -> T:
        key = doc_key(review_id, doc)
        room = self.rooms.loaded(key)
        if room is not None:
            return reader(room.doc)
        async with self.rooms.borrow(key) as room:
            return reader(room.doc)

    async def meeting(self, review_id: str) -> dict[str, Any]:
        return await self.read(review_id, DocName.ROOM, meeting_state)

    async def revealed_sections(self, review_id: str) -> frozenset[str]:
        """The sections whose notes the room doc shows."""
        return await self.read(review_id, DocName.ROOM, revealed_sections)

    async def show_note_counts(self, review_id: str, tally: NoteTally) -> None:
        """Show everyone how many notes wait unrevealed: the server's awareness entry of
        the `room` doc, ordered by the tally's clock (notes.py). A process that has the
        room loaded shows it to its peers; with a shared backend the room is loaded if
        need be, so that its link takes the counts to the other processes' peers. A room
        loaded later shows the counts from the tally then (`notes.shown_counts`)."""
        key = doc_key(review_id, DocName.ROOM)
        room = self.rooms.loaded(key)
        if room is not None:
            room.show_server_state(tally.shown(), tally.clock)
        elif self.storage.shared:
            async with self.rooms.borrow(key) as room:
                room.show_server_state(tally.shown(), tally.clock)

    async def flush(self, review_id: str) -> None:
        """Make every queued client update of the review's docs durable and visible."""
        for name in DocName:
            await self.edit(review_id, name, lambda doc: None)

    def freeze_peers(self, review_id: str) -> set[Peer]:
        """Connected clients lose write access at once (new ones check `is_frozen`);
        returns the peers that had it, for `thaw_peers` when a close fails."""
        frozen: set[Peer] = set()
        for name in DocName:
            room = self.rooms.rooms.get(doc_key(review_id, name))
            if room is not None:
                for peer in room.peers:
                    if peer.writable:
                        frozen.add(peer)
                        peer.writable = False
        return frozen

    @staticmethod
    def thaw_peers(peers: set[Peer]) -> None:
        """Give back write access taken by `freeze_peers` (the close did not happen)."""
        for peer in peers:
            peer.writable = True


FoundRecords = list[dict[str, Any] | None]


class _LockedReview:
    """`MeetingService.locked_reading`: the review's lock held, the review checked under
    it. A class, not a generator: nearly every command that writes enters one."""

    __slots__ = ("keys", "lock", "meeting", "review_id")
    lock: contextlib.AbstractAsyncContextManager[FoundRecords]

    def __init__(self, meeting: MeetingService, review_id: str, keys: list[tuple[str, str]]):
        self.meeting = meeting
        self.review_id = review_id
        self.keys = keys

    async def __aenter__(self) -> tuple[dict[str, Any], FoundRecords]:
        meeting, review_id = self.meeting, self.review_id
        held = meeting.held_review(review_id)  # the command's own read, when still good
        reads = self.keys if held is not None else [(REVIEW, review_id), *self.keys]
        lock = self.lock = meeting.storage.lock_reading(f"review:{review_id}", reads)
        found = await lock.__aenter__()
        try:
            review = held
            if review is None:
                first, found = found[0], found[1:]
                if first is None:
                    raise NotFound("there is no review with this id", error="unknown-review")
                review = full_review(first)
            if is_frozen(review):
                raise closed_refusal()
        except BaseException as exc:
            await lock.__aexit__(type(exc), exc, exc.__traceback__)
            raise
        return review, found

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self.lock.__aexit__(*exc)
