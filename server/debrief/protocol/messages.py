"""Parse incoming y-websocket frames into events and build outgoing frames.

Framing follows y-websocket: a varuint message type (0 sync, 1 awareness, 2 auth,
3 query-awareness), then the payload. Sync payloads are a varuint sub-type (step 1,
step 2, update) and a length-prefixed buffer. We reuse pycrdt's encoders so the bytes
are exactly what every Yjs client expects; only the parsing is strict here, because
pycrdt's helpers assume well-formed input.
"""

from __future__ import annotations

from dataclasses import dataclass

from pycrdt import (
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    write_message,
    write_var_uint,
)

from debrief.protocol.errors import ProtocolError

MESSAGE_AUTH = 2
MESSAGE_QUERY_AWARENESS = 3
AUTH_PERMISSION_DENIED = 0

# An encoded Yjs update that carries nothing: no structs, empty delete set.
EMPTY_UPDATE = b"\x00\x00"


@dataclass(frozen=True, slots=True)
class SyncStep1:
    """The peer's state vector; it wants everything it is missing."""

    state_vector: bytes


@dataclass(frozen=True, slots=True)
class SyncStep2:
    """The peer's answer to our step 1: everything we were missing."""

    update: bytes


@dataclass(frozen=True, slots=True)
class SyncUpdate:
    """An incremental document update."""

    update: bytes


@dataclass(frozen=True, slots=True)
class AwarenessFrame:
    """An encoded awareness update (presence, cursors)."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class QueryAwareness:
    """The peer asks for every current awareness state."""


@dataclass(frozen=True, slots=True)
class PermissionDenied:
    """An auth message telling a peer its write was refused."""

    reason: str


Frame = SyncStep1 | SyncStep2 | SyncUpdate | AwarenessFrame | QueryAwareness | PermissionDenied


class Reader:
    """A bounds-checked cursor over a frame."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def var_uint(self) -> int:
        result = 0
        shift = 0
        while True:
            if self.pos >= len(self.data):
                raise ProtocolError("truncated varuint")
            byte = self.data[self.pos]
            self.pos += 1
            result |= (byte & 0x7F) << shift
            if byte < 0x80:
                return result
            shift += 7
            if shift > 63:
                raise ProtocolError("varuint too long")

    def buffer(self) -> bytes:
        length = self.var_uint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError("length prefix runs past the end of the frame")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def string(self) -> str:
        try:
            return self.buffer().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError("string is not UTF-8") from exc

    def at_end(self) -> bool:
        return self.pos == len(self.data)


def parse_frame(data: bytes) -> Frame:
    """Decode one websocket message; raise ProtocolError on anything malformed."""
    if not data:
        raise ProtocolError("empty frame")
    reader = Reader(data)
    kind = reader.var_uint()
    frame: Frame
    if kind == YMessageType.SYNC:
        sub = reader.var_uint()
        payload = reader.buffer()
        if sub == YSyncMessageType.SYNC_STEP1:
            frame = SyncStep1(payload)
        elif sub == YSyncMessageType.SYNC_STEP2:
            frame = SyncStep2(payload)
        elif sub == YSyncMessageType.SYNC_UPDATE:
            frame = SyncUpdate(payload)
        else:
            raise ProtocolError(f"unknown sync message type {sub}")
    elif kind == YMessageType.AWARENESS:
        frame = AwarenessFrame(reader.buffer())
    elif kind == MESSAGE_QUERY_AWARENESS:
        frame = QueryAwareness()
    elif kind == MESSAGE_AUTH:
        sub = reader.var_uint()
        if sub != AUTH_PERMISSION_DENIED:
            raise ProtocolError(f"unknown auth message type {sub}")
        frame = PermissionDenied(reader.string())
    else:
        raise ProtocolError(f"unknown message type {kind}")
    if not reader.at_end():
        raise ProtocolError("trailing bytes after message")
    return frame


def sync_step1_frame(state_vector: bytes) -> bytes:
    return bytes([YMessageType.SYNC, YSyncMessageType.SYNC_STEP1]) + write_message(state_vector)


def sync_step2_frame(update: bytes) -> bytes:
    return bytes([YMessageType.SYNC, YSyncMessageType.SYNC_STEP2]) + write_message(update)


def update_frame(update: bytes) -> bytes:
    return create_update_message(update)


def awareness_frame(payload: bytes) -> bytes:
    return create_awareness_message(payload)


def var_string(text: str) -> bytes:
    """A length-prefixed UTF-8 string.

    Not pycrdt's Encoder.write_var_string: it prefixes the character count, not the
    byte count, which corrupts any non-ASCII text (names like "Zoë").
    """
    raw = text.encode("utf-8")
    return write_var_uint(len(raw)) + raw


def permission_denied_frame(reason: str) -> bytes:
    return bytes([MESSAGE_AUTH, AUTH_PERMISSION_DENIED]) + var_string(reason)


def keepalive_frame() -> bytes:
    """An awareness update listing no clients.

    y-websocket providers drop a connection after 30 s without any message, and
    websocket pings are invisible to browser code, so idle rooms get this no-op.
    """
    return create_awareness_message(b"\x00")
