"""A room's presence: who is here, from its own peers and from other processes.

Mixed into Room (rooms/room.py), which owns the peer set, the awareness registry, the
relay link and the metrics; kept apart so the room's write path reads on its own.
"""

from __future__ import annotations

from typing import Any

from debrief.metrics import Metrics
from debrief.protocol import awareness_frame, permission_denied_frame
from debrief.protocol.awareness import (
    SERVER_CLIENT_ID,
    AwarenessEntry,
    AwarenessRegistry,
    encode_awareness,
    parse_awareness,
)
from debrief.rooms.fanout import broadcast
from debrief.rooms.peer import Peer
from debrief.rooms.relay import RoomLink, is_owner_of_node, remote_owner


class RoomPresence:
    peers: set[Peer]
    awareness: AwarenessRegistry
    link: RoomLink | None
    metrics: Metrics

    def remove_peer(self, peer: Peer) -> None:
        self.peers.discard(peer)
        removals = self.awareness.remove_owner(peer)
        if removals:
            self._broadcast(awareness_frame(encode_awareness(removals)))
            if self.link is not None:
                self.link.publish_awareness(removals)

    def _receive_awareness(self, peer: Peer, payload: bytes) -> None:
        """Apply a peer's presence; PresenceFlood (close 1008) when it sends more, or
        claims more client ids, than a browser would; ProtocolError (1002) when a state
        is too large or too deep (checked before it is decoded)."""
        size = len(payload)
        peer.charge_presence(peer.presence_cost(size, echo_only=True))
        limits = peer.presence
        change = self.awareness.apply_from(
            peer, parse_awareness(payload, limits), peer.user, limits
        )
        peer.spend_presence(peer.presence_cost(size, echo_only=change.echo_only))
        if change.refused:
            peer.send(permission_denied_frame("awareness client id belongs to another participant"))
        if change.crowded:
            peer.send(permission_denied_frame("this room shows no more presences: yours is hidden"))
        accepted = change.accepted
        if accepted:
            self._broadcast(awareness_frame(encode_awareness(accepted)))
            if self.link is not None:
                self.link.publish_awareness(accepted)

    def show_server_state(self, state: dict[str, Any], clock: int) -> None:
        """Show everyone the server's own awareness entry (see SERVER_CLIENT_ID), here and
        in the other processes; a clock at or below what is shown changes nothing."""
        entry = self.awareness.set_server(state, clock)
        if entry is None:
            return
        if self.peers:  # (a command's room that nobody has open: nothing to encode)
            self._broadcast(awareness_frame(encode_awareness([entry])))
        if self.link is not None:
            self.link.publish_awareness([entry])

    def remote_awareness(self, node: str, entries: list[AwarenessEntry]) -> None:
        """Presence from another process's peers (already stamped there), and the
        server's own entry as another process set it."""
        relayed: list[AwarenessEntry] = []
        for entry in entries:
            if entry.client_id == SERVER_CLIENT_ID:
                shown = None
                if entry.state is not None:
                    shown = self.awareness.set_server(entry.state, entry.clock)
                if shown is not None:
                    relayed.append(shown)
                continue
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
        if relayed and self.peers:  # (a room open only for commands: nothing to encode)
            self._broadcast(awareness_frame(encode_awareness(relayed)))

    def drop_remote_node(self, node: str) -> None:
        """Process ``node`` is gone: forget the presence of its peers."""
        removals: list[AwarenessEntry] = []
        for owner in self.awareness.owners():
            if is_owner_of_node(owner, node):
                removals += self.awareness.remove_owner(owner)
        if removals and self.peers:
            self._broadcast(awareness_frame(encode_awareness(removals)))

    def _broadcast(self, frame: bytes) -> None:
        peers = self.peers
        broadcast(peers, frame)
        self.metrics.frames_out.inc(len(peers))
        self.metrics.bytes_out.inc(len(frame) * len(peers))
