"""Sans-I/O y-websocket protocol: bytes in, events out; events in, bytes out.

Nothing in this package awaits or touches a socket, so it is tested without one.
"""

from debrief.protocol.errors import ProtocolError
from debrief.protocol.messages import (
    AwarenessFrame,
    Frame,
    PermissionDenied,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    awareness_frame,
    keepalive_frame,
    parse_frame,
    permission_denied_frame,
    sync_step1_frame,
    sync_step2_frame,
    update_frame,
)

__all__ = [
    "AwarenessFrame",
    "Frame",
    "PermissionDenied",
    "ProtocolError",
    "QueryAwareness",
    "SyncStep1",
    "SyncStep2",
    "SyncUpdate",
    "awareness_frame",
    "keepalive_frame",
    "parse_frame",
    "permission_denied_frame",
    "sync_step1_frame",
    "sync_step2_frame",
    "update_frame",
]
