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
import contextlib
import logging
import time
from collections.abc import Callable, Iterator
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
    AwarenessEntry,
    AwarenessRegistry,
    encode_awareness,
    parse_awareness,
)
from debrief.protocol.messages import EMPTY_UPDATE
from debrief.protocol.updates import adds_nothing, decode_snapshot
from debrief.rooms.fanout import broadcast
from debrief.rooms.peer import Peer
from debrief.rooms.relay import Relay, RoomLink, is_owner_of_node, remote_owner
from debrief.storage.base import Storage, StorageError
from debrief.tasks import cancel_and_wait

log = logging.getLogger(__name__)

CLOSE_INTERNAL_ERROR = 1011
SERVER_ORIGIN = "debrief-server"
EMPTY_STATE_VECTOR = b"\x00"


class RoomFailed(StorageError):
    """The room's storage failed; it must be reloaded before it is used again."""


class Room:
    def __init__(
        self,
        key: str,
        storage: Storage,
        metrics: Metrics,
        *,
        compact_every: int = 500,
        relay: Relay | None = None,
    ) -> None:
        self.key = key
        self.storage = storage
        self.metrics = metrics
        self.compact_every = compact_every
        self.doc: Doc = Doc()
        self.awareness = AwarenessRegistry()
        self.peers: set[Peer] = set()
        self.borrowers = 0  # HTTP commands using the room without a connection
        self.failed: str | None = None
        self.position = "0"
        self._since_compact = 0
        self._pending: list[bytes] = []
        self._pending_since = 0.0
        self._wake = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._joinable = asyncio.Event()
        self._joinable.set()
        self._snapshot_cache: tuple[bytes, Any] | None = None
        # Step 2 for a joiner with an empty doc: the whole state, encoded once per
        # change instead of once per joiner (a join storm on a big doc).
        self._full_step2: bytes | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.relay = relay
        self.link: RoomLink | None = None

    # --- lifecycle -----------------------------------------------------------------

    async def load(self) -> None:
        """Load from storage; any failure leaves the room failed and never saved."""
        try:
            stored = await self.storage.load_doc(self.key)
            if stored.snapshot:
                self.doc.apply_update(stored.snapshot)
            for update in stored.updates:
                self.doc.apply_update(update)
            if self.relay is not None:
                # from the position the load covers: nothing falls in between
                self.link = await self.relay.attach(self, stored.position)
        except Exception as exc:
            self.failed = f"could not load {self.key}: {exc}"
            raise RoomFailed(self.failed) from exc
        self.position = stored.position
        self._since_compact = len(stored.updates)

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_loop())

    async def close(self) -> None:
        """Flush what is queued, compact, stop. Peers must already be gone."""
        await cancel_and_wait(self._flusher)
        if self.failed is None:
            async with self._write_lock:
                await self._flush_pending()
                if self._since_compact:
                    with contextlib.suppress(StorageError):
                        await self._compact()
        if self.link is not None:
            await self.link.close()

    # --- peers ---------------------------------------------------------------------

    def add_peer(self, peer: Peer) -> None:
        """Greet a peer: our state vector (so it sends what we lack) and who is here."""
        self.peers.add(peer)
        peer.send(sync_step1_frame(self.doc.get_state()))
        present = self.awareness.current()
        if present:
            peer.send(awareness_frame(encode_awareness(present)))

    def remove_peer(self, peer: Peer) -> None:
        self.peers.discard(peer)
        removals = self.awareness.remove_owner(peer)
        if removals:
            self._broadcast(awareness_frame(encode_awareness(removals)))
            if self.link is not None:
                self.link.publish_awareness(removals)

    async def handle(self, peer: Peer, frame: Frame) -> None:
        """Act on one parsed frame from ``peer``; ProtocolError means close it with 1002."""
        if self.failed is not None:
            raise RoomFailed(self.failed)
        if isinstance(frame, SyncStep1):
            await self._joinable.wait()
            if frame.state_vector == EMPTY_STATE_VECTOR:
                peer.send(self._full_state_frame())
                return
            try:
                reply = self.doc.get_update(frame.state_vector)
            except Exception as exc:
                raise ProtocolError("sync step 1 carries an invalid state vector") from exc
            peer.send(sync_step2_frame(reply))
        elif isinstance(frame, SyncStep2 | SyncUpdate):
            if self._receive_update(peer, frame.update):
                await self._flush_now()
        elif isinstance(frame, AwarenessFrame):
            self._receive_awareness(peer, frame.payload)
        elif isinstance(frame, QueryAwareness):
            peer.send(awareness_frame(encode_awareness(self.awareness.current())))
        elif isinstance(frame, PermissionDenied):
            raise ProtocolError("clients may not send permission-denied messages")

    def _receive_update(self, peer: Peer, update: bytes) -> bool:
        """Check a client's update and queue it; False when there is nothing to write."""
        self.metrics.updates_in.inc()
        if update == EMPTY_UPDATE:
            return False
        if not peer.writable:
            delete_set, state = self._snapshot()
            if not adds_nothing(update, delete_set, state):
                self.metrics.writes_denied.inc()
                peer.send(permission_denied_frame("this document is read-only for your role"))
            return False
        try:
            get_state(update)  # decodes the whole update: rejects garbage before queueing
        except Exception as exc:
            raise ProtocolError("update cannot be decoded") from exc
        if not self._pending:
            self._pending_since = time.perf_counter()
        self._pending.append(update)
        return True

    async def _flush_now(self) -> None:
        """Write what is queued from the receiving connection's own task when nobody else
        is writing, so no loop turn passes between an update and its broadcast. While a
        write is in flight (a Redis round trip, a server edit), updates wait for the
        flusher, which merges everything that queued up meanwhile into one append."""
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

    def _receive_awareness(self, peer: Peer, payload: bytes) -> None:
        entries = parse_awareness(payload)
        accepted, refused = self.awareness.apply(peer, entries, peer.user)
        if refused:
            peer.send(permission_denied_frame("awareness client id belongs to another connection"))
        if accepted:
            self._broadcast(awareness_frame(encode_awareness(accepted)))
            if self.link is not None:
                self.link.publish_awareness(accepted)

    def _broadcast(self, frame: bytes) -> None:
        peers = self.peers
        broadcast(peers, frame)
        self.metrics.frames_out.inc(len(peers))
        self.metrics.bytes_out.inc(len(frame) * len(peers))

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
        started = self._pending_since
        merged = batch[0] if len(batch) == 1 else merge_updates(*batch)
        fresh = get_update(merged, self.doc.get_state())
        if fresh[0] == 0:  # no new structs: only deletions, maybe none we lack
            delete_set, state = self._snapshot()
            if adds_nothing(fresh, delete_set, state):
                return
        await self._commit(fresh)
        self.metrics.broadcast_latency.observe(time.perf_counter() - started)

    async def _commit(self, update: bytes, *, applied: bool = False) -> None:
        self.position = await self.storage.append_update(self.key, update)
        self._since_compact += 1
        if not applied:
            self.doc.apply_update(update)
            self._doc_changed()
        self._broadcast(update_frame(update))
        self.metrics.updates_out.inc()

    async def _compact(self) -> None:
        snapshot = self.doc.get_update()
        # with a relay, own appends may be ahead of entries of others not read yet
        upto = self.link.position if self.link is not None else self.position
        await self.storage.compact(self.key, snapshot, upto)
        self._since_compact = 0

    async def edit(self, change: Callable[[Doc], None]) -> None:
        """Run a server-side change on the doc; returns once it is durable and broadcast."""
        if self.failed is not None:
            raise RoomFailed(self.failed)
        async with self._write_lock:
            await self._flush_pending()
            self._joinable.clear()
            try:
                with self._capture() as captured:
                    with self.doc.transaction(origin=SERVER_ORIGIN):
                        change(self.doc)
                for update in captured:
                    await self._commit(update, applied=True)
            except StorageError as exc:
                self.fail(f"storage failed: {exc}")
                raise
            finally:
                self._joinable.set()

    @contextlib.contextmanager
    def _capture(self) -> Iterator[list[bytes]]:
        """Collect the updates of server transactions (observed only while editing)."""
        captured: list[bytes] = []

        def collect(event: TransactionEvent) -> None:
            update = event.update
            if update != EMPTY_UPDATE:
                captured.append(update)

        subscription = self.doc.observe(collect)
        try:
            yield captured
        finally:
            self.doc.unobserve(subscription)
            self._doc_changed()

    # --- other processes (through the relay) -----------------------------------------

    def apply_remote(self, update: bytes) -> None:
        """An update another process appended to the shared log: durable, so apply it."""
        if self.failed is not None:
            return
        try:
            self.doc.apply_update(update)
        except Exception as exc:
            log.warning("room %s: skipped an undecodable logged update: %s", self.key, exc)
            return
        self._doc_changed()
        self._broadcast(update_frame(update))
        self.metrics.updates_out.inc()

    def remote_awareness(self, node: str, entries: list[AwarenessEntry]) -> None:
        """Presence from another process's peers (already stamped there)."""
        relayed: list[AwarenessEntry] = []
        for entry in entries:
            owner = remote_owner(node, entry.client_id)
            if entry.state is None:
                if self.awareness.remove_owner(owner):
                    relayed.append(entry)
                continue
            user = entry.state.get("user")
            accepted, _ = self.awareness.apply(
                owner, [entry], user if isinstance(user, dict) else {}
            )
            relayed += accepted
        if relayed:
            self._broadcast(awareness_frame(encode_awareness(relayed)))

    def drop_remote_node(self, node: str) -> None:
        """Process ``node`` is gone: forget the presence of its peers."""
        removals: list[AwarenessEntry] = []
        for owner in self.awareness.owners():
            if is_owner_of_node(owner, node):
                removals += self.awareness.remove_owner(owner)
        if removals:
            self._broadcast(awareness_frame(encode_awareness(removals)))

    def _doc_changed(self) -> None:
        self._snapshot_cache = None
        self._full_step2 = None

    def _full_state_frame(self) -> bytes:
        if self._full_step2 is None:
            self._full_step2 = sync_step2_frame(self.doc.get_update())
        return self._full_step2

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
