"""Framing and payload helpers shared by every bench client (no I/O).

Two framings exist among the servers we drive:

* ``plain``: the standard y-websocket protocol (Debrief, the y-websocket Node server, pycrdt).
* ``hocuspocus``: every frame starts with the document name as a varstring, and the client must
  send an auth message (type 2, sub-type 0 = token) before anything else for that document.

Latency markers travel inside real Yjs content: a writer sets the map key
``b:<writer>:<seq>:<send ns>;`` in the Y Map ``bench``; an awareness sender puts
``a:<sender>:<seq>:<send ns>;`` in its awareness state. Strings are stored verbatim (UTF-8) in
Yjs updates and in awareness JSON, so a receiver finds every marker of a frame, merged or not,
with one regex scan; a few "verifying" clients also apply every update to a real pycrdt Doc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pycrdt import (
    Decoder,
    Encoder,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
)

__all__ = [
    "AWARENESS_MARKER",
    "UPDATE_MARKER",
    "Framing",
    "Incoming",
    "YMessageType",
    "YSyncMessageType",
    "create_awareness_message",
    "create_sync_message",
    "create_update_message",
]

UPDATE_MARKER = re.compile(rb"b:(\d+):(\d+):(\d+);")
AWARENESS_MARKER = re.compile(rb"a:(\d+):(\d+):(\d+);")

MSG_AUTH = 2
HOCUSPOCUS_AUTH_TOKEN = 0


def update_key(writer: int, seq: int, send_ns: int) -> str:
    """The Y Map key a writer sets for update ``seq``; it carries the send time."""
    return f"b:{writer}:{seq}:{send_ns};"


def awareness_marker(sender: int, seq: int, send_ns: int) -> str:
    """The awareness-state value a cursor mover sends for move ``seq``."""
    return f"a:{sender}:{seq}:{send_ns};"


@dataclass(slots=True)
class Incoming:
    """One received y-protocol message with its framing removed.

    ``kind`` is the message type (0 sync, 1 awareness, 2 auth, ...); for sync messages
    ``sync`` is the sub-type (0 step 1, 1 step 2, 2 update); ``body`` is the whole y message
    (type byte(s) included) as the plain y-websocket protocol would carry it.
    """

    kind: int
    sync: int
    body: bytes


class Framing:
    """Wraps outgoing y messages and unwraps incoming frames for one server flavour."""

    def __init__(self, hocuspocus: bool, doc_name: str) -> None:
        self.hocuspocus = hocuspocus
        self.doc_name = doc_name
        if hocuspocus:
            enc = Encoder()
            enc.write_var_string(doc_name)
            self._prefix = enc.to_bytes()
        else:
            self._prefix = b""

    def wrap(self, message: bytes) -> bytes:
        """Frame one y message for the wire."""
        return self._prefix + message if self._prefix else message

    def opening(self, token: str = "bench") -> list[bytes]:
        """Frames a client sends right after the websocket opens (before its sync step 1)."""
        if not self.hocuspocus:
            return []
        enc = Encoder()
        enc.write_var_string(self.doc_name)
        enc.write_var_uint(MSG_AUTH)
        enc.write_var_uint(HOCUSPOCUS_AUTH_TOKEN)
        enc.write_var_string(token)
        return [enc.to_bytes()]

    def unwrap(self, frame: bytes) -> Incoming | None:
        """Strip the framing; ``None`` for an empty or foreign frame."""
        if self._prefix:
            if not frame.startswith(self._prefix):
                return None
            frame = frame[len(self._prefix) :]
        if not frame:
            return None
        kind = frame[0]
        sync = frame[1] if kind == YMessageType.SYNC and len(frame) > 1 else -1
        return Incoming(kind, sync, frame)


def sync_payload(body: bytes) -> bytes:
    """The update (or state vector) carried by a sync message ``body`` (type, sub-type, data)."""
    decoder = Decoder(body[2:])
    payload = decoder.read_message()
    return payload if payload is not None else b""


def scan_updates(body: bytes) -> list[tuple[int, int, int]]:
    """All (writer, seq, send ns) markers in a frame."""
    return [(int(w), int(s), int(t)) for w, s, t in UPDATE_MARKER.findall(body)]


def scan_awareness(body: bytes) -> list[tuple[int, int, int]]:
    """All (sender, seq, send ns) awareness markers in a frame."""
    return [(int(w), int(s), int(t)) for w, s, t in AWARENESS_MARKER.findall(body)]
