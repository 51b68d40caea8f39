"""How a room hears about other processes serving the same doc (scale-out mode).

In single-process mode (SQLite) there is no relay and rooms behave exactly as
before. With Redis, the app gives the RoomManager a Relay; every room attaches to it
once loaded, passing the log position its load covers, and gets a RoomLink back:

- updates other processes appended after that position are handed to
  ``RelayTarget.apply_remote`` (they are durable already: the relay reads them from
  the shared log), in log order, and the room passes them on to its peers;
- the room publishes its peers' awareness changes through the link, and receives the
  other processes' awareness under owner names from ``remote_owner`` (one per remote
  client id, so a removal or the death of its process removes exactly those states);
- ``RoomLink.position`` is the log position up to which every entry is in the room's
  doc (its own and everyone else's): the only position a compaction may cover;
- when the relay loses its backend it calls ``RelayTarget.fail``: the room closes its
  peers (1011) and is reloaded by the next connection.
"""

from __future__ import annotations

import sys
from typing import Protocol

from debrief.protocol.awareness import AwarenessEntry


def remote_owner(node: str, client_id: int) -> str:
    """The awareness owner standing for ``client_id`` of process ``node``.

    Interned, because the awareness registry tells owners apart by identity.
    """
    return sys.intern(f"node:{node}:{client_id}")


def is_owner_of_node(owner: object, node: str) -> bool:
    return isinstance(owner, str) and owner.startswith(f"node:{node}:")


class RelayTarget(Protocol):
    """What the relay needs from a room."""

    key: str

    def apply_remote(self, update: bytes) -> None: ...

    def remote_awareness(self, node: str, entries: list[AwarenessEntry]) -> None: ...

    def drop_remote_node(self, node: str) -> None: ...

    def fail(self, reason: str) -> None: ...


class RoomLink(Protocol):
    """A room's attachment to the relay."""

    @property
    def position(self) -> str: ...

    def publish_awareness(self, entries: list[AwarenessEntry]) -> None: ...

    async def close(self) -> None: ...


class Relay(Protocol):
    """Process-wide: one per app, started and stopped by the lifespan."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def attach(self, room: RelayTarget, position: str) -> RoomLink: ...
