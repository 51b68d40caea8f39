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

Threads were tried for the writes (``os.write`` releases the GIL): on the 2-core
bench machine, where the clients need the other core, they made p99 no better.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

from debrief.rooms.peer import Peer, binary_frame_wire


def broadcast(peers: Iterable[Peer], frame: bytes) -> None:
    """Send ``frame`` to every peer, as ``Peer.send`` would."""
    wire = binary_frame_wire(frame)
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
