"""Loads, shares and unloads rooms.

Concurrent joins of the same doc always land in one room: the first caller starts
the load and everyone else awaits the same future (pycrdt's own websocket server can
create two rooms when clients arrive at the same moment). A room is unloaded a short
grace period after its last peer leaves, flushed and compacted first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from debrief.metrics import Metrics
from debrief.protocol import keepalive_frame
from debrief.rooms.fanout import broadcast
from debrief.rooms.peer import Peer
from debrief.rooms.relay import Relay
from debrief.rooms.room import Room
from debrief.rooms.write_rates import DEFAULT_WRITE_LIMITS, ReviewBudgets, WriteLimits
from debrief.storage.base import Storage
from debrief.tasks import cancel_and_wait

CLOSE_GOING_AWAY = 1001
CLOSE_SERVICE_RESTART = 1012
KEEPALIVE_BATCH = 128  # keepalive frames sent between two turns of the event loop


def review_of(key: str) -> str:
    """The review a doc key belongs to ("<review>/<doc>", auth/roles.py doc_key)."""
    return key.partition("/")[0]


class RoomManager:
    def __init__(
        self,
        storage: Storage,
        metrics: Metrics,
        *,
        unload_grace_s: float = 5.0,
        compact_every: int = 500,
        keepalive_s: float = 10.0,
        relay: Relay | None = None,
        write_limits: WriteLimits = DEFAULT_WRITE_LIMITS,
    ) -> None:
        self.storage = storage
        self.metrics = metrics
        self.unload_grace_s = unload_grace_s
        self.compact_every = compact_every
        self.keepalive_s = keepalive_s
        self.relay = relay  # other processes serving the same docs (scale-out mode)
        self.write_limits = write_limits
        self.budgets = ReviewBudgets(write_limits)  # one per review, shared by its rooms
        # called with a doc's key after every change to it (e.g. the recap's sign-offs)
        self.listeners: list[Callable[[str], None]] = []
        self.rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._unloading: dict[str, asyncio.Task[None]] = {}
        self._unload_timers: dict[str, tuple[Room, asyncio.TimerHandle]] = {}
        self._keepalive: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._keepalive = asyncio.create_task(self._keepalive_loop())

    async def acquire(self, key: str) -> Room:
        """The loaded room for ``key``, loading it once however many ask at once."""
        while True:
            unloading = self._unloading.get(key)
            if unloading is not None:
                if unloading.done() and self._unloading.get(key) is unloading:
                    # its done-callback (which forgets it) is still queued, and awaiting a
                    # done task does not yield: without this the loop spins here forever
                    del self._unloading[key]
                await asyncio.shield(unloading)
                continue
            room = self.rooms.get(key)
            if room is not None and room.failed is None:
                # a pending unload is not cancelled: when due, it sees the room in use,
                # or used since (_unload_due)
                room.idle_since = asyncio.get_running_loop().time()
                return room
            if room is not None:  # failed: drop it and load afresh
                await self._unload(room)
                continue
            loading = self._loading.get(key)
            if loading is not None:
                return await asyncio.shield(loading)
            return await self._load(key)

    async def _load(self, key: str) -> Room:
        future: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            room = Room(
                key,
                self.storage,
                self.metrics,
                compact_every=self.compact_every,
                relay=self.relay,
                limits=self.write_limits,
                budget=self.budgets.acquire(review_of(key)),
                listeners=self.listeners,
            )
            try:
                await room.load()
            except BaseException:
                self.budgets.release(review_of(key))
                raise
            room.start()
            self.rooms[key] = room
            self.metrics.rooms.set(len(self.rooms))
            future.set_result(room)
            return room
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved when nobody else waited
            raise
        finally:
            del self._loading[key]

    def loaded(self, key: str) -> Room | None:
        """The room for ``key`` if it is loaded and usable now, for a read that does not
        await (nothing can unload the room meanwhile): a command's read of a room in use
        skips `borrow`'s load check and context. It counts as use, as a borrow does."""
        room = self.rooms.get(key)
        if room is None or room.failed is not None or key in self._unloading:
            return None
        room.idle_since = asyncio.get_running_loop().time()
        self._schedule_unload(room)
        return room

    def borrow(self, key: str) -> Borrowed:
        """Use a room without being a peer (server-side edits from HTTP commands)."""
        return Borrowed(self, key)

    def release(self, room: Room, peer: Peer) -> None:
        """``peer`` left ``room``; unload the room once it stays empty for a while."""
        room.remove_peer(peer)
        self._schedule_unload(room)

    def _schedule_unload(self, room: Room) -> None:
        """Unload ``room`` once it has had no peer and no borrower for the grace period.

        A timer already pending is kept, not moved: each HTTP command borrows a room,
        and re-arming a timer per command cost more than the command's own doc read.
        When due, the timer looks at how long the room has been idle (`_unload_due`)."""
        if room.peers or room.borrowers or self.rooms.get(room.key) is not room:
            return
        loop = asyncio.get_running_loop()
        room.idle_since = loop.time()
        pending = self._unload_timers.get(room.key)
        if pending is not None and pending[0] is room:
            return
        if pending is not None:  # an earlier room of the same doc's (failed, dropped)
            pending[1].cancel()
        timer = loop.call_later(self.unload_grace_s, self._unload_due, room)
        self._unload_timers[room.key] = (room, timer)

    def _unload_due(self, room: Room) -> None:
        pending = self._unload_timers.get(room.key)
        if pending is not None and pending[0] is room:
            del self._unload_timers[room.key]
        if room.peers or room.borrowers or room.key in self._unloading:
            return  # in use again: its next release schedules the unload anew
        if self.rooms.get(room.key) is not room:
            return
        loop = asyncio.get_running_loop()
        left = room.idle_since + self.unload_grace_s - loop.time()
        if left > 0:  # used in between, idle again since: wait out the rest
            timer = loop.call_later(left, self._unload_due, room)
            self._unload_timers[room.key] = (room, timer)
            return
        task = asyncio.get_running_loop().create_task(self._unload(room))
        self._unloading[room.key] = task
        task.add_done_callback(lambda _: self._unloading.pop(room.key, None))

    async def _unload(self, room: Room) -> None:
        if self.rooms.get(room.key) is room:
            del self.rooms[room.key]
            self.budgets.release(review_of(room.key))
        self.metrics.rooms.set(len(self.rooms))
        await room.close()

    def peers_of_sessions(self, session_ids: set[str]) -> list[Peer]:
        return [
            peer
            for room in self.rooms.values()
            for peer in room.peers
            if peer.session_id in session_ids
        ]

    async def _keepalive_loop(self) -> None:
        while True:
            await asyncio.sleep(self.keepalive_s / 2)
            await self.send_keepalives(time.monotonic() - self.keepalive_s)

    async def send_keepalives(self, cutoff: float) -> int:
        """A keepalive frame to every peer that has heard nothing since ``cutoff``;
        returns how many were sent.

        With thousands of sockets open a pass is thousands of socket writes (~40 ms on
        the bench box, every few seconds: it showed in a meeting's p99). So they go out
        in batches, as a broadcast does (rooms/fanout.py), with a turn of the event loop
        between two batches: a command waits for one batch at most."""
        frame = keepalive_frame()
        sent = 0
        due: list[Peer] = []
        for room in list(self.rooms.values()):
            for peer in list(room.peers):  # a snapshot: the loop runs between batches
                if peer.last_sent < cutoff and not peer.backlog and not peer.closed:
                    due.append(peer)
                if len(due) == KEEPALIVE_BATCH:
                    broadcast(due, frame)
                    sent += len(due)
                    due = []
                    await asyncio.sleep(0)
        broadcast(due, frame)
        return sent + len(due)

    async def shutdown(self) -> None:
        """Close every peer (1012: clients reconnect to a sibling), flush every room."""
        await cancel_and_wait(self._keepalive)
        for _room, timer in self._unload_timers.values():
            timer.cancel()
        self._unload_timers.clear()
        for room in list(self.rooms.values()):
            for peer in list(room.peers):
                peer.close(CLOSE_SERVICE_RESTART, "server restarting")
        await asyncio.gather(*self._unloading.values(), return_exceptions=True)
        await asyncio.gather(
            *(self._unload(room) for room in list(self.rooms.values())), return_exceptions=True
        )


class Borrowed:
    """`RoomManager.borrow`: a loaded room is taken without awaiting (every command
    borrows one, and most find it loaded); otherwise it is loaded (`acquire`)."""

    __slots__ = ("key", "manager", "room")

    def __init__(self, manager: RoomManager, key: str) -> None:
        self.manager = manager
        self.key = key

    async def __aenter__(self) -> Room:
        manager = self.manager
        room = manager.rooms.get(self.key)
        if room is None or room.failed is not None or self.key in manager._unloading:
            room = await manager.acquire(self.key)
        else:  # as `acquire` does for a loaded room, without a coroutine
            room.idle_since = asyncio.get_running_loop().time()
        room.borrowers += 1
        self.room = room
        return room

    async def __aexit__(self, *_: object) -> None:
        room = self.room
        room.borrowers -= 1
        self.manager._schedule_unload(room)
