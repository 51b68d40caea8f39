"""A room: one loaded doc, its awareness and its peers.

Write path ("durable before visible"): a client's update is checked and queued; then
the receiving connection's own task writes it at once, or, while another write is in
flight (a Redis round trip, a server edit), the flusher task merges everything queued
meanwhile. Either way the update is stripped of what the doc already has, appended to
storage, and only then applied to the doc and broadcast as one frame, encoded once
and shared by every peer. The doc therefore only ever holds
durable content, so a late joiner's sync step 2 never shows anything a crash could
lose. Server edits (the meeting engine writing ``room``) take the same lock and hold
joiners back for the moment between their in-memory change and their append.

With a relay (scale-out, rooms/relay.py) the room also takes in what other processes
appended to the shared log (``apply_remote``: already durable, applied and passed on)
and exchanges awareness with them; compaction then covers only the relay's position,
up to which every entry of the log is in this doc.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from pycrdt import Doc, Snapshot, TransactionEvent, get_state, get_update, merge_updates

from debrief.metrics import Metrics
from debrief.protocol import (
    AwarenessFrame,
    Frame,
    PermissionDenied,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    awareness_frame,
    permission_denied_frame,
    sync_step1_frame,
    sync_step2_frame,
    update_frame,
)
from debrief.protocol.awareness import (
    AwarenessRegistry,
    encode_awareness,
)
from debrief.protocol.errors import is_crdt_failure
from debrief.protocol.messages import EMPTY_UPDATE
from debrief.protocol.scan import STORED_LIMITS, UpdateSummary, scan_update
from debrief.protocol.updates import adds_nothing, decode_snapshot, decode_state_vector
from debrief.rooms.admission import WriteAdmission
from debrief.rooms.peer import Peer
from debrief.rooms.relay import Relay, RoomLink
from debrief.rooms.room_presence import RoomPresence
from debrief.rooms.storage_refusals import StorageRefusals
from debrief.rooms.write_rates import (
    DEFAULT_WRITE_LIMITS,
    WriteBudget,
    WriteLimits,
    review_budget,
)
from debrief.storage.base import (
    RecordWrite,
    Storage,
    StorageError,
    StorageStalled,
    StorageUnavailable,
)
from debrief.tasks import cancel_and_wait

log = logging.getLogger(__name__)

CLOSE_INTERNAL_ERROR = 1011
SERVER_ORIGIN = "debrief-server"
EMPTY_STATE_VECTOR = b"\x00"
CLOSE_POLICY_VIOLATION = 1008
COMPACT_RETRY_S = 30.0
# An update larger than this takes tens of milliseconds to check (scan, decode, schema)
# and to write: the loop serves everyone else between those steps.
YIELD_ABOVE = 64 * 1024


class RoomFailed(StorageError):
    """The room's storage failed; it must be reloaded before it is used again."""


class Room(RoomPresence, StorageRefusals):
    def __init__(
        self,
        key: str,
        storage: Storage,
        metrics: Metrics,
        *,
        compact_every: int = 500,
        relay: Relay | None = None,
        limits: WriteLimits = DEFAULT_WRITE_LIMITS,
        budget: WriteBudget | None = None,
        listeners: list[Callable[[str], None]] | None = None,
    ) -> None:
        self.key = key
        self.storage = storage
        self.metrics = metrics
        self.compact_every = compact_every
        self.doc: Doc = Doc()
        self.awareness = AwarenessRegistry()
        # Whether what the server shows in this doc's awareness was read from storage
        # since the room loaded (the meeting's hidden counts: http/websocket.py).
        self.server_state_read = False
        self.peers: set[Peer] = set()
        self.borrowers = 0  # HTTP commands using the room without a connection
        self.idle_since = 0.0  # loop time at which the last peer or borrower let go
        self.failed: str | None = None
        self.position = "0"
        self.limits = limits
        # the review's write budget, shared with its other docs' rooms (rooms/write_rates.py)
        self.budget = budget or review_budget(limits)
        # bytes of the doc's log (snapshot + updates since): what the size bound counts
        self.stored_bytes = 0
        # told the doc's key after each change (shared with the manager: see on_change)
        self.listeners = listeners if listeners is not None else []
        self._since_compact = 0
        self._compact_retry_at = 0.0
        self._pending: list[bytes] = []
        self._writing: bytes | None = None
        self._pending_since = 0.0
        self._wake = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._joinable = asyncio.Event()
        self._joinable.set()
        self._snapshot_cache: tuple[bytes, Any] | None = None
        self._state_cache: dict[int, int] | None = None
        # Step 2 for a joiner with an empty doc: the whole state, encoded once per
        # change instead of once per joiner (a join storm on a big doc).
        self._full_step2: bytes | None = None
        self._flusher: asyncio.Task[None] | None = None
        # Peers with an update in _pending; peers whose update storage refused (a full
        # or stalled disk), asked for everything once storage is back.
        self._writers: weakref.WeakSet[Peer] = weakref.WeakSet()
        self._refused_by_storage: weakref.WeakSet[Peer] = weakref.WeakSet()
        self.relay = relay
        self.link: RoomLink | None = None
        self.admission = WriteAdmission(storage, key, self.doc.client_id, self._shadow_base)

    # --- lifecycle -----------------------------------------------------------------

    async def load(self) -> None:
        """Load from storage; any failure leaves the room failed and never saved."""
        try:
            stored = await self.storage.load_doc(self.key)
            # Bounded before pycrdt decodes anything: a stored update from an older
            # version could nest deep enough to crash the decoder (`debrief doctor`).
            for update in (stored.snapshot, *stored.updates):
                if update:
                    scan_update(update, STORED_LIMITS)
                    self.doc.apply_update(update)
            await self.admission.load()
            if self.relay is not None:
                # from the position the load covers: nothing falls in between
                self.link = await self.relay.attach(self, stored.position)
        except BaseException as exc:
            if not is_crdt_failure(exc):
                raise
            self.failed = f"could not load {self.key}: {exc} (see `debrief doctor`)"
            log.error("room %s failed to load: %s", self.key, exc)
            raise RoomFailed(self.failed) from exc
        self.position = stored.position
        self._since_compact = len(stored.updates)
        self.stored_bytes = len(stored.snapshot or b"") + sum(map(len, stored.updates))

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_loop())

    async def close(self) -> None:
        """Flush what is queued, compact, stop. Peers must already be gone.

        Nothing the room holds may lead back to it once it is unloaded, so reference
        counting frees it at once rather than the cycle collector some time later
        (every write session left one behind: issue 14). A cancelled task keeps its
        CancelledError, whose traceback holds ``_flush_loop``'s frame and so the room.
        """
        flusher, self._flusher = self._flusher, None
        await cancel_and_wait(flusher)
        if self.failed is None:
            async with self._write_lock:
                await self._flush_pending()
                with contextlib.suppress(StorageError):
                    await self.admission.write_audit(force=True)
                if self._since_compact:
                    with contextlib.suppress(StorageError):
                        await self._compact()
        if self.link is not None:
            await self.link.close()
            self.link = None
        # Unloaded: anything still holding the room is refused rather than served.
        self.failed = self.failed or f"{self.key} was unloaded"
        self.admission.close()

    # --- peers ---------------------------------------------------------------------

    def add_peer(self, peer: Peer) -> None:
        """Greet a peer: our state vector (so it sends what we lack) and who is here."""
        self.peers.add(peer)
        peer.send(sync_step1_frame(self.doc.get_state()))
        present = self.awareness.current()
        if present:
            peer.send(awareness_frame(encode_awareness(present)))

    async def handle(self, peer: Peer, frame: Frame) -> None:
        """Act on one parsed frame from ``peer``; ProtocolError means close it with 1002."""
        if self.failed is not None:
            raise RoomFailed(self.failed)
        if isinstance(frame, SyncStep1):
            await self._joinable.wait()
            # The whole doc a joiner lacks may exceed the slow-client bound: send_sync.
            if frame.state_vector == EMPTY_STATE_VECTOR:
                peer.send_sync(self._full_state_frame())
                return
            try:
                reply = self.doc.get_update(frame.state_vector)
            except BaseException as exc:
                if not is_crdt_failure(exc):
                    raise
                raise ProtocolError("sync step 1 carries an invalid state vector") from exc
            peer.send_sync(sync_step2_frame(reply))
        elif isinstance(frame, SyncStep2 | SyncUpdate):
            try:
                queued = await self._receive_update(peer, frame.update)
            except StorageUnavailable as exc:  # e.g. binding its client id: not queued
                self._refuse_for_storage({peer}, exc)
                return
            if queued:
                await self._flush_now(peer)
        elif isinstance(frame, AwarenessFrame):
            self._receive_awareness(peer, frame.payload)
        elif isinstance(frame, QueryAwareness):
            peer.send(awareness_frame(encode_awareness(self.awareness.current())))
        elif isinstance(frame, PermissionDenied):
            raise ProtocolError("clients may not send permission-denied messages")

    async def _receive_update(self, peer: Peer, update: bytes) -> bool:
        """Check a client's update and queue it; False when there is nothing to write.

        In this order: bounds (before any library decodes it: UpdateRejected closes the
        peer with 1002), the role, the doc's size bound, the client ids it writes under,
        the doc's schema and who may change what (all refused with the permission-denied
        message). A big update lets the loop serve others between these steps.
        """
        self.metrics.updates_in.inc()
        if update == EMPTY_UPDATE:
            return False
        summary = scan_update(update)
        big = len(update) > YIELD_ABOVE
        if big:
            await asyncio.sleep(0)
        if not peer.writable:
            if not _adds_nothing(summary, *self._snapshot()):
                self._deny(peer, "this document is read-only for your role")
            return False
        try:
            get_state(update)  # decodes the whole update: rejects garbage before queueing
        except BaseException as exc:
            if not is_crdt_failure(exc):
                raise
            raise ProtocolError("update cannot be decoded") from exc
        if big:
            await asyncio.sleep(0)
        refused = self._over_size(len(update), summary) or await self.admission.check(
            peer.user, update, summary, self._state
        )
        if refused is not None:
            self._deny(peer, refused)
            return False
        if big:
            await asyncio.sleep(0)
            if self.failed is not None:
                raise RoomFailed(self.failed)
        if not self._pending:
            self._pending_since = time.perf_counter()
        self._pending.append(update)
        return True

    async def _flush_now(self, writer: Peer | None = None) -> None:
        """Write what is queued from the receiving connection's own task when nobody else
        is writing, so no loop turn passes between an update and its broadcast. While a
        write is in flight (a Redis round trip, a server edit), updates wait for the
        flusher, which merges everything that queued up meanwhile into one append.
        ``writer`` queued an update just now: told if storage refuses it."""
        if writer is not None:
            self._writers.add(writer)
        if self._write_lock.locked():
            self._wake.set()
            return
        async with self._write_lock:
            try:
                await self._flush_pending()
            except StorageError as exc:
                self.fail(f"storage failed: {exc}")
                raise RoomFailed(str(exc)) from exc
        if self._since_compact >= self.compact_every:
            self._wake.set()  # compaction runs on the flusher, off the client's path

    def _over_size(self, size: int, summary: UpdateSummary) -> str | None:
        """Why an update of ``size`` bytes would take the doc past its bound, or None.

        Deletions alone pass within a quarter more: they are how a full doc is made
        smaller (and cannot grow it for good: compaction drops them). The log's
        bytes overstate the doc until it is compacted (deleted content and overwritten
        values go then), so a doc at the bound is compacted first, on the flusher, and
        the next write is judged by what is really left.
        """
        bound = self.limits.max_doc_bytes
        if not summary.struct_count:
            bound += bound // 4
        queued = sum(map(len, self._pending))
        if self.stored_bytes + queued + size <= bound:
            return None
        if self._since_compact:
            self._since_compact = max(self._since_compact, self.compact_every)
            self._wake.set()
        mib = self.limits.max_doc_bytes / (1024 * 1024)
        return (
            f"this document is full ({mib:g} MiB): the change was not saved; "
            "remove content or start a new review"
        )

    def _deny(self, peer: Peer, reason: str) -> None:
        self.metrics.writes_denied.inc()
        peer.send(permission_denied_frame(reason))
        if self.admission.too_many_refusals(peer):
            peer.close(CLOSE_POLICY_VIOLATION, "too many refused writes: reload to resync")

    def _shadow_base(self) -> list[bytes]:
        """What the guard's shadow doc is rebuilt from: the doc and what waits to be written."""
        writing = [self._writing] if self._writing is not None else []
        return [self.doc.get_update(), *writing, *self._pending]

    async def flush_audit(self) -> None:
        """Write every audit entry held back for coalescing (a reader wants them all)."""
        if self.failed is None:
            async with self._write_lock:
                await self.admission.write_audit(force=True)

    # --- the write path ------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            async with self._write_lock:
                try:
                    await self._flush_pending()
                    if self._since_compact >= self.compact_every:
                        await self._compact()
                except StorageError as exc:
                    self.fail(f"storage failed: {exc}")
                    return

    async def _flush_pending(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        writers, self._writers = self._writers, weakref.WeakSet()
        started = self._pending_since
        merged = batch[0] if len(batch) == 1 else merge_updates(*batch)
        fresh = get_update(merged, self.doc.get_state())
        if fresh[0] == 0:  # no new structs: only deletions, maybe none we lack
            delete_set, state = self._snapshot()
            if adds_nothing(fresh, delete_set, state):
                return
        self._writing = fresh  # neither pending nor in the doc while it is appended
        try:
            await self._commit(fresh)
        except StorageStalled:
            raise  # it may still land: the room cannot tell what its log holds (1011)
        except StorageUnavailable as exc:
            self._refuse_for_storage(set(writers), exc)  # not written: sent again later
            return
        finally:
            self._writing = None
        self.metrics.broadcast_latency.observe(time.perf_counter() - started)
        if self.admission.audit:  # most writes have nothing to record (unknown roots)
            try:
                await self.admission.write_audit()
            except StorageStalled:
                raise
            except StorageUnavailable as exc:  # the update itself is durable
                log.warning("room %s: audit entries not stored: %s", self.key, exc)

    async def _commit(
        self, update: bytes, *, applied: bool = False, records: Sequence[RecordWrite] = ()
    ) -> None:
        self.position = await self.storage.append_update(self.key, update, records)
        self._since_compact += 1
        self.stored_bytes += len(update)
        if not applied:
            self.doc.apply_update(update)
            self._doc_changed()
        if self.peers:  # a command's edit of a review nobody has open: nothing to frame
            self._broadcast(update_frame(update))
        self.metrics.updates_out.inc()

    async def _compact(self) -> None:
        """Replace the log with one snapshot. A failure leaves the log as it was (every
        update still there, the doc still usable) and is tried again a while later:
        a compaction is never a reason to fail the room."""
        if time.monotonic() < self._compact_retry_at:
            return
        snapshot = self.doc.get_update()
        # with a relay, own appends may be ahead of entries of others not read yet
        upto = self.link.position if self.link is not None else self.position
        try:
            await self.storage.compact(self.key, snapshot, upto)
        except StorageError as exc:
            log.warning("room %s: compaction failed, the log stays as it is: %s", self.key, exc)
            self._compact_retry_at = time.monotonic() + COMPACT_RETRY_S
            return
        self._since_compact = 0
        # What the log holds now, whoever compacted it; with a relay, a few own entries
        # past ``upto`` go uncounted until the next compaction.
        self.stored_bytes = len(snapshot)

    async def edit(
        self, change: Callable[[Doc], None], records: Sequence[RecordWrite] = ()
    ) -> None:
        """Run a server-side change on the doc; returns once it is durable and broadcast.
        ``records`` are stored in the same step as the change (`Storage.append_update`);
        a change that leaves the doc as it was stores them alone."""
        if self.failed is not None:
            raise RoomFailed(self.failed)
        async with self._write_lock:
            # refused (503) before the doc changes: a change not stored would fail the room
            self.storage.health.check()
            if self._pending:
                await self._flush_pending()
            self._joinable.clear()
            try:
                captured = self._run_captured(change)
                for update in captured:
                    self.admission.follow(update)
                    await self._commit(update, applied=True, records=records)
                    records = ()  # stored with the first
                # whoever edits on the server's side (a close, a flush) sees a complete log
                await self.admission.write_audit(force=True)
            except StorageError as exc:
                self.fail(f"storage failed: {exc}")
                raise
            finally:
                self._joinable.set()
        if records:  # the doc did not change: nothing of the room's to fail with them
            await self.storage.put_records(list(records))

    def _run_captured(self, change: Callable[[Doc], None]) -> list[bytes]:
        """Run ``change`` in one server transaction; the updates it made (the doc is
        observed only meanwhile: an observer makes pycrdt encode every transaction)."""
        captured: list[bytes] = []

        def collect(event: TransactionEvent) -> None:
            update = event.update
            if update != EMPTY_UPDATE:
                captured.append(update)

        subscription = self.doc.observe(collect)
        try:
            with self.doc.transaction(origin=SERVER_ORIGIN):
                change(self.doc)
        finally:
            self.doc.unobserve(subscription)
            self._doc_changed()
        return captured

    # --- other processes (through the relay) -----------------------------------------

    def apply_remote(self, update: bytes) -> None:
        """An update another process appended to the shared log: durable, so apply it."""
        if self.failed is not None:
            return
        try:
            scan_update(update, STORED_LIMITS)
            self.doc.apply_update(update)
        except BaseException as exc:
            if not is_crdt_failure(exc):
                raise
            log.warning("room %s: skipped an undecodable logged update: %s", self.key, exc)
            return
        self.admission.follow(update)
        self.stored_bytes += len(update)
        self._doc_changed()
        self._broadcast(update_frame(update))
        self.metrics.updates_out.inc()

    def _doc_changed(self) -> None:
        for listener in self.listeners:
            listener(self.key)
        self._snapshot_cache = None
        self._state_cache = None
        self._full_step2 = None

    def _full_state_frame(self) -> bytes:
        if self._full_step2 is None:
            self._full_step2 = sync_step2_frame(self.doc.get_update())
        return self._full_step2

    def _state(self) -> dict[int, int]:
        """The doc's state vector (client id -> next clock), cached until the doc changes."""
        if self._state_cache is None:
            self._state_cache = decode_state_vector(self.doc.get_state())
        return self._state_cache

    def _snapshot(self) -> tuple[Any, dict[int, int]]:
        """The doc's (delete set, state vector), cached until the doc changes."""
        if self._snapshot_cache is None:
            encoded = Snapshot.from_doc(self.doc).encode()
            self._snapshot_cache = (encoded, decode_snapshot(encoded))
        return self._snapshot_cache[1]

    def fail(self, reason: str) -> None:
        """Storage is gone: refuse everything and let every client resync elsewhere."""
        log.error("room %s failed: %s", self.key, reason)
        self.failed = reason
        for peer in list(self.peers):
            peer.close(CLOSE_INTERNAL_ERROR, "storage unavailable: reconnect shortly")


def _adds_nothing(
    summary: UpdateSummary, delete_set: dict[int, list[tuple[int, int]]], state: dict[int, int]
) -> bool:
    """Whether an update holds only what the doc already has: from the scan alone, so a
    read-only peer's sync step 2 echo is told from a write without decoding it."""
    if any(end > state.get(client, 0) for client, (_, end) in summary.structs.items()):
        return False
    for client, ranges in summary.deletes.items():
        known = delete_set.get(client, [])  # sorted and merged (protocol/updates.py)
        for start, end in ranges:
            i = bisect.bisect_right(known, (start, math.inf)) - 1
            if i < 0 or known[i][1] < end:
                return False
    return True
