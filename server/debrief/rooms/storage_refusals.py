"""What a room does while storage takes no writes (a full or stalled disk): it refuses
its writers' changes without closing them, and asks them for everything once storage is
back. Mixed into Room (rooms/room.py)."""

from __future__ import annotations

import weakref

from pycrdt import Doc

from debrief.metrics import Metrics
from debrief.protocol import permission_denied_frame, sync_step1_frame
from debrief.rooms.admission import WriteAdmission
from debrief.rooms.peer import Peer
from debrief.storage.base import Storage, StorageUnavailable


class StorageRefusals:
    doc: Doc
    peers: set[Peer]
    storage: Storage
    metrics: Metrics
    admission: WriteAdmission
    failed: str | None
    # peers whose update storage refused, asked for everything once storage is back
    _refused_by_storage: weakref.WeakSet[Peer]

    def _refuse_for_storage(self, writers: set[Peer], exc: StorageUnavailable) -> None:
        """Storage takes no writes (full or stalled disk): tell each writer its change was
        not saved, without closing it and without counting it as a refused write (it is
        not the writer's doing); once storage is back, ask each for everything we lack.
        The client keeps its change and answers that sync step 1 with it: nothing lost."""
        if self.admission.guard is not None:
            self.admission.guard.reset()  # its shadow saw updates that were dropped
        what = exc.reason.split(":")[0]  # "storage is full", "storage is stalled"
        when = "space returns" if exc.state == "full" else "storage responds again"
        reason = f"{what}: your change was not saved; it will be sent when {when}"
        first = not self._refused_by_storage
        for peer in writers:
            if peer.closed:
                continue
            self.metrics.writes_denied.inc()
            peer.send(permission_denied_frame(reason))
            self._refused_by_storage.add(peer)
        if first and self._refused_by_storage:
            self.storage.health.when_ok(self._storage_back)

    def _storage_back(self) -> None:
        """Storage takes writes again: sync step 1 to every peer refused meanwhile."""
        peers, self._refused_by_storage = self._refused_by_storage, weakref.WeakSet()
        if self.failed is not None:
            return  # its peers were closed; they resync when they reconnect
        if not self.storage.health.ok:  # failed again already: wait for the next recovery
            self._refused_by_storage = peers
            self.storage.health.when_ok(self._storage_back)
            return
        step1 = sync_step1_frame(self.doc.get_state())
        for peer in peers:
            if peer in self.peers and not peer.closed:
                peer.send(step1)
