"""Send one frame to every peer of a room with as little work per peer as possible.

A big review's broadcast is one socket write per peer, and the bench profile shows
that write is nearly all of the server's time (~85 %: the kernel's TCP send and the
receiver's wake-up). What is left to trim is the Python around it, so a peer that
can take raw bytes right now -- fast path (rooms/peer.py), transport open, nothing
buffered -- gets the frame's wire bytes with one ``os.write`` on its socket: no
method chain per peer, no transport bookkeeping, one clock read per broadcast.
Bytes land in the kernel in order because nothing was buffered before them. What a
socket does not take whole (full buffer, broken connection) goes to the peer's
transport, which buffers the rest or notices the error as usual; every other peer
goes through ``Peer.send``.

Past SPLIT_ABOVE such peers, and when the process may run on more than one CPU, a
helper thread writes the second half of the sockets while the loop writes the first
(``os.write`` releases the GIL, so the kernel's sends run on two cores). The loop waits
for the helper before it goes on, so no socket is written by both, none is closed
meanwhile, and the next broadcast cannot overtake this one. On the 2-core bench box,
with the clients on the same cores, that took big-200's p99 from 7.0 to 6.1 ms (median
of 14 runs by turns) for ~7 % more server CPU, and left big-500's within its spread
(bench/README.md, twenty-second pass): there the clients need the second core. A room
under the bound, and a process on one CPU, never pays for the hand-off.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor

from debrief.rooms.peer import Peer, binary_frame_wire

SPLIT_ABOVE = 64
# Read once: a server pinned to one CPU (taskset, a container's cpuset) gains nothing
# from a second writer, only the hand-off.
_SEVERAL_CPUS = len(os.sched_getaffinity(0)) > 1
_helper: ThreadPoolExecutor | None = None


def broadcast(peers: Collection[Peer], frame: bytes) -> None:
    """Send ``frame`` to every peer, as ``Peer.send`` would."""
    wire = binary_frame_wire(frame)
    if _SEVERAL_CPUS and len(peers) > SPLIT_ABOVE:
        _broadcast_split(peers, frame, wire)
        return
    size = len(wire)
    write = os.write
    now = time.monotonic()
    for peer in peers:
        fd = peer.direct_fd()
        if fd < 0:
            peer.send(frame)
            continue
        try:
            written = write(fd, wire)
        except OSError:  # full (EAGAIN) or broken: the transport sorts it out
            written = 0
        if written == size:
            peer.last_sent = now
        else:
            peer.send_wire(wire[written:])


def _broadcast_split(peers: Collection[Peer], frame: bytes, wire: bytes) -> None:
    now = time.monotonic()
    direct: list[Peer] = []
    fds: list[int] = []
    for peer in peers:
        fd = peer.direct_fd()
        if fd < 0:
            peer.send(frame)
        else:
            direct.append(peer)
            fds.append(fd)
    if len(fds) > SPLIT_ABOVE:
        half = len(fds) // 2
        far = _helper_thread().submit(_write_each, fds[half:], wire)
        try:
            counts = _write_each(fds[:half], wire)
        finally:
            rest = far.result()  # never returns early: the loop waits for every write
        counts += rest
    else:  # most peers were not ready for a direct write: not worth a hand-off
        counts = _write_each(fds, wire)
    size = len(wire)
    for peer, count in zip(direct, counts, strict=True):
        if count == size:
            peer.last_sent = now
        else:  # the rest through the transport, on the loop
            peer.send_wire(wire[count:])


def _write_each(fds: list[int], wire: bytes) -> list[int]:
    """How many bytes of ``wire`` each socket took (0: full or broken)."""
    write = os.write
    counts = []
    for fd in fds:
        try:
            counts.append(write(fd, wire))
        except OSError:
            counts.append(0)
    return counts


def _helper_thread() -> ThreadPoolExecutor:
    global _helper
    if _helper is None:
        _helper = ThreadPoolExecutor(1, thread_name_prefix="debrief-fanout")
    return _helper
