"""The websocket endpoint /ws/{review_id}/{doc}: authenticate, then relay frames.

Close codes: 4401 no or bad session, or the session expired while connected ("session
expired"), 4403 session of another review, 4404 unknown review or doc, 4429 too many
connections for this session (settings.sockets_per_session, on this process),
1002 malformed frame (also a presence state too large or nested too deeply),
1003 text frame, 1008 presence flood (more client ids or presence messages than a
browser sends: settings.presence_*), 1009 frame too big (our websocket protocol,
http/ws_protocol.py, enforces the size), 1011 storage failure or no answer to a
ping, 1013 too slow. A server-side close that has not completed within
settings.peer_close_timeout_s drops the connection (rooms/peer.py).
A browser whose Origin is not ours is refused with HTTP 403 before the handshake.
A connection that has not sent its request headers within settings.header_timeout_s
is dropped before it gets here (http/slowloris.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import struct
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from urllib.parse import urlparse

from starlette.applications import Starlette
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from debrief.auth.roles import DocName, can_write, doc_key
from debrief.auth.sessions import AuthError, Session
from debrief.http.api import REVIEW, bearer_token, cookie_token
from debrief.http.direct_commands import DirectCommands
from debrief.http.session_deadlines import SessionDeadlines
from debrief.http.session_sockets import SessionSockets
from debrief.http.ws_protocol import LeanWebSocketProtocol
from debrief.meeting.notes import shown_counts
from debrief.meeting.service import is_frozen
from debrief.protocol import (
    Frame,
    ProtocolError,
    QueryAwareness,
    SyncStep1,
    SyncStep2,
    SyncUpdate,
    parse_frame,
)
from debrief.protocol.awareness import PresenceFlood, PresenceLimits
from debrief.rooms import Peer, Room
from debrief.rooms.room import EMPTY_STATE_VECTOR, RoomFailed
from debrief.services import Services, services
from debrief.storage.base import StorageError

log = logging.getLogger(__name__)

CLOSE_POLICY = 1008
CLOSE_TOO_MANY_SOCKETS = 4429
# Presence tokens (rooms/peer.py) a query for every presence costs: its answer can be
# large, and browsers ask once per connection.
QUERY_COST = 5.0
LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a reset


class WebSocketTransport:
    """The Peer's view of a Starlette websocket (under an ASGI server whose socket we
    cannot write to: each peer then gets a queue and a drain task, rooms/peer.py)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self._send = websocket.send

    async def send(self, data: bytes) -> None:
        await self._send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int, reason: str) -> None:
        if self.websocket.application_state != WebSocketState.DISCONNECTED:
            await self.websocket.close(code, reason)

    def abort(self) -> None:
        """Nothing to do: without our own protocol the ASGI server owns the socket
        (the peer's close still gives up waiting after its timeout)."""


class RawFrameTransport:
    """Writes pre-encoded frames straight to the connection's socket (see rooms/peer.py).

    Our websocket protocol (http/ws_protocol.py) serialises each frame and writes it
    to the asyncio transport synchronously; we do the same with bytes encoded once for
    every peer. Control frames (ping, close) still go through the protocol; frames are
    written whole, so they never interleave mid-frame.
    """

    __slots__ = ("_fd", "protocol")

    def __init__(self, protocol: LeanWebSocketProtocol) -> None:
        self.protocol = protocol
        self._fd = -1

    async def send(self, data: bytes) -> None:
        await self.protocol.send({"type": "websocket.send", "bytes": data})

    async def close(self, code: int, reason: str) -> None:
        protocol = self.protocol
        if protocol.close_sent or protocol.disconnected:
            return
        if not protocol.writable:
            # The protocol holds the close frame until the client has read what is
            # buffered, which a stalled client never does. Tell our receive loop at
            # once, as the protocol does when the frame goes out, so the room drops the
            # peer now; the peer's close timeout then aborts the connection.
            protocol.push({"type": "websocket.disconnect", "code": code})
        await protocol.send({"type": "websocket.close", "code": code, "reason": reason})

    def abort(self) -> None:
        protocol = self.protocol
        if protocol.disconnected:
            return
        transport = protocol.transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Reset rather than FIN: a FIN waits behind the unread bytes, and the kernel
            # would hold them (and the socket) for minutes of retries.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
        transport.abort()  # drops the buffer; connection_lost follows and cleans up

    def write_wire(self, wire: bytes) -> bool:
        protocol = self.protocol
        transport = protocol.transport
        if protocol.close_sent or protocol.disconnected or transport.is_closing():
            return False
        transport.write(wire)
        return True

    def buffered(self) -> int:
        return self.protocol.transport.get_write_buffer_size()

    def direct_fd(self) -> int:
        protocol = self.protocol
        transport = protocol.transport
        if (
            protocol.close_sent
            or protocol.disconnected
            or transport.is_closing()
            or transport.get_write_buffer_size()
        ):
            return -1
        if self._fd < 0:
            sock = transport.get_extra_info("socket")
            self._fd = sock.fileno() if sock is not None else -1
        return self._fd


DOC_SOCKET_PATH = re.compile(r"/ws/(?P<review_id>[^/]+)/(?P<doc>[^/]+)")

# `/ws/{review}/{doc}?sync=full`: the client has nothing yet and asks for the whole doc
# with the connection itself, so the server sends it at once, as if the client's first
# message had been sync step 1 with an empty state vector. The web app's boot.js opens
# its sockets this way before the app's code has loaded (web/src/boot/handoff.ts): the
# doc is on its way while the browser is still busy, with no message from the page
# needed first. Any other query is ignored, as before.
SYNC_FULL = b"sync=full"
ASK_FOR_EVERYTHING = SyncStep1(EMPTY_STATE_VECTOR)


class DocSockets:
    """ASGI entry: /ws/{review_id}/{doc} goes straight to ``doc_endpoint``, a meeting
    command straight to its endpoint (``commands``, see http/direct_commands.py); the
    rest to ``app`` (Starlette: the API, the web client, the lifespan).

    Around Starlette's router and middleware because a websocket lives for the whole
    meeting and every layer's frame and closures live with it: ~4 KiB of each idle
    connection. Here, too, ``send`` is still the protocol's bound method, whose owner
    writes to the socket (see RawFrameTransport).
    """

    def __init__(self, app: Starlette, commands: DirectCommands | None = None) -> None:
        self.app = app
        self.commands = commands
        self.gate = Gate()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.direct_websocket(scope, receive, send)
        if endpoint is None and self.commands is not None:
            endpoint = self.commands.direct(scope, receive, send)
        if endpoint is not None:
            await endpoint
        else:
            await self.app(scope, receive, send)

    def direct_websocket(
        self, scope: Scope, receive: Receive, send: Send
    ) -> Coroutine[Any, Any, None] | None:
        """The endpoint's coroutine for a doc socket, else None. Our websocket protocol
        runs it as the connection's task itself (http/ws_protocol.py): no frame of
        this class or of the server's lives on with each connection."""
        if scope["type"] != "websocket":
            return None
        match = DOC_SOCKET_PATH.fullmatch(scope["path"])
        if match is None:
            return None
        scope["app"] = self.app
        scope["path_params"] = match.groupdict()
        return doc_endpoint(WebSocket(scope, receive, send), protocol_of(send), self.gate)


class Gate:
    """What the doc sockets of one app share: the sockets each session has open, when
    their sessions expire, and the presence limits every peer points to (one object,
    built from the settings)."""

    def __init__(self) -> None:
        self.sockets = SessionSockets()
        self.deadlines = SessionDeadlines()
        self._presence: PresenceLimits | None = None

    def presence(self, svc: Services) -> PresenceLimits:
        if self._presence is None:
            settings = svc.settings
            self._presence = PresenceLimits(
                ids_per_connection=settings.presence_ids,
                presences_per_room=settings.presences_per_room,
                state_bytes=settings.presence_state_bytes,
                rate=settings.presence_rate,
                burst=settings.presence_burst,
            )
        return self._presence


def protocol_of(send: Send) -> LeanWebSocketProtocol | None:
    owner = getattr(send, "__self__", None)
    return owner if isinstance(owner, LeanWebSocketProtocol) else None


def transport_for(
    websocket: WebSocket, protocol: LeanWebSocketProtocol | None
) -> WebSocketTransport | RawFrameTransport:
    if protocol is not None and protocol.transport is not None:
        return RawFrameTransport(protocol)
    return WebSocketTransport(websocket)


def forget_handshake(websocket: WebSocket) -> None:
    """Free what only the handshake needed once the connection is open: the scope's
    list of headers lives as long as the connection, and nothing reads it after the
    handshake (admission has already looked at the headers). Emptied in place, since
    several objects share it. (Our protocol keeps neither request nor response.)
    """
    websocket.scope["headers"].clear()


def origin_allowed(svc: Services, websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser; browsers always send Origin
    if origin.rstrip("/") in svc.settings.allowed_origins:
        return True
    if svc.settings.public_url and origin.rstrip("/") == svc.settings.public_url:
        return True
    return urlparse(origin).netloc == websocket.headers.get("host")


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    await websocket.accept()
    await websocket.close(code, reason)


async def authenticate(svc: Services, websocket: WebSocket) -> Session | None:
    """The caller's session, or None after refusing the connection."""
    token = bearer_token(websocket)
    if token is None:
        token = cookie_token(websocket.cookies, websocket.path_params.get("review_id", ""))
        if token is not None and not origin_allowed(svc, websocket):
            await websocket.close(1008, "origin not allowed")  # before accept: HTTP 403
            return None
    try:
        return await svc.sessions.authenticate(token)
    except AuthError as exc:
        await refuse(websocket, 4401, str(exc))
        return None


async def doc_endpoint(
    websocket: WebSocket,
    protocol: LeanWebSocketProtocol | None = None,
    gate: Gate | None = None,
) -> None:
    svc = services(websocket)
    gate = gate or Gate()
    admitted = await admit(svc, websocket, protocol, gate)
    if admitted is None:
        return
    room, peer, expires_at = admitted
    del admitted  # (the tuple would live as long as the connection)
    first = ASK_FOR_EVERYTHING if websocket.scope.get("query_string") == SYNC_FULL else None
    # Our protocol's receive is a plain function returning a future (no frame per idle
    # connection); Starlette's wrapper is for the other ASGI servers.
    receive: Callable[[], Awaitable[Any]] = (
        websocket.receive if protocol is None else protocol.receive
    )
    del websocket  # this frame lives as long as the connection
    # The session may end while the socket is open (4401 "session expired").
    deadline = gate.deadlines.add(expires_at, peer)
    try:
        peer.start()
        room.add_peer(peer)
        svc.metrics.connections.inc()
        try:
            if first is None or await act_first(room, peer, first):
                await relay(svc, receive, room, peer)
        finally:
            svc.metrics.connections.dec()
            svc.rooms.release(room, peer)
            await peer.stop()
    finally:
        gate.deadlines.discard(deadline, peer)
        gate.sockets.release(peer.session_id)


async def admit(
    svc: Services, websocket: WebSocket, protocol: LeanWebSocketProtocol | None, gate: Gate
) -> tuple[Room, Peer, float] | None:
    """Check the caller and open the doc's room; None after refusing the connection.
    Else the room, the peer (a socket counted for its session until the caller
    releases it) and when the session expires (epoch seconds).

    A helper of its own so that the session and review records it reads are freed
    once the connection is open: the endpoint's frame lives as long as the
    connection, and 5,000 idle clients would each keep a parsed review otherwise.
    """
    review_id = websocket.path_params["review_id"]
    try:
        doc = DocName(websocket.path_params["doc"])
    except ValueError:
        await refuse(websocket, 4404, "unknown doc: use room, timeline or recap")
        return None
    try:
        session = await authenticate(svc, websocket)
        if session is None:
            return None
        review = await svc.storage.get_record(REVIEW, review_id)
    except StorageError as exc:
        log.warning("cannot check the session for %s: %s", review_id, exc)
        await refuse(websocket, 1011, "storage unavailable: try again shortly")
        return None
    if review is None:
        await refuse(websocket, 4404, "unknown review")
        return None
    if session.review_id != review_id:
        await refuse(websocket, 4403, "this session belongs to another review")
        return None
    if not gate.sockets.reserve(session.session_id, svc.settings.sockets_per_session):
        await refuse(
            websocket,
            CLOSE_TOO_MANY_SOCKETS,
            "too many connections for this session: close other tabs of this review",
        )
        return None
    try:
        opened = await open_peer(svc, websocket, protocol, gate, session, review, doc)
    except BaseException:
        gate.sockets.release(session.session_id)
        raise
    if opened is None:
        gate.sockets.release(session.session_id)
        return None
    return (*opened, session_expires_at(svc, session))


async def show_stored_counts(svc: Services, room: Room, review_id: str) -> None:
    """Once per load of a review's `room` doc, before its first peer joins: the hidden
    notes' counts from the review's tally, in the server's awareness entry (the notes
    stored after this show their own). A read that fails shows nothing until the next
    note does: the connection itself is not refused for it."""
    room.server_state_read = True
    try:
        tally = await shown_counts(svc.storage, review_id)
    except StorageError as exc:
        log.warning("cannot read the note counts of %s: %s", review_id, exc)
        return
    if tally is not None:
        room.show_server_state(tally.shown(), tally.clock)


def session_expires_at(svc: Services, session: Session) -> float:
    """Epoch seconds when the session's token stops being accepted (signed at join)."""
    return session.created_ms / 1000 + svc.sessions.ttl_s


async def open_peer(
    svc: Services,
    websocket: WebSocket,
    protocol: LeanWebSocketProtocol | None,
    gate: Gate,
    session: Session,
    review: dict[str, Any],
    doc: DocName,
) -> tuple[Room, Peer] | None:
    review_id = session.review_id
    await websocket.accept()
    forget_handshake(websocket)
    try:
        room = await svc.rooms.acquire(doc_key(review_id, doc))
    except (RoomFailed, StorageError) as exc:
        log.warning("cannot open %s/%s: %s", review_id, doc, exc)
        await websocket.close(1011, "document unavailable: try again shortly")
        return None
    if doc is DocName.ROOM and not room.server_state_read:
        await show_stored_counts(svc, room, review_id)
    peer = Peer(
        transport_for(websocket, protocol),
        # A closed review is frozen: every role reads only (see meeting/service.py).
        writable=can_write(session.role, doc) and not is_frozen(review),
        user={"name": session.name, "role": str(session.role), "id": session.participant_id},
        session_id=session.session_id,
        queue_limit=svc.settings.peer_queue_frames,
        buffer_limit=svc.settings.peer_buffer_bytes,
        close_timeout=svc.settings.peer_close_timeout_s,
        on_slow=svc.metrics.slow_peers.inc,
        presence=gate.presence(svc),
    )
    return room, peer


async def act_first(room: Room, peer: Peer, frame: Frame) -> bool:
    """Act on a frame the server reads into the connection itself (``SYNC_FULL``);
    False once the peer is closed."""
    try:
        await room.handle(peer, frame)
    except RoomFailed:
        peer.close(1011, "storage unavailable: reconnect shortly")
        return False
    return True


async def relay(
    svc: Services, receive: Callable[[], Awaitable[Any]], room: Room, peer: Peer
) -> None:
    bytes_in = svc.metrics.bytes_in
    limits = svc.rooms.write_limits
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect" or peer.closed:
            return  # closed by the server meanwhile: nothing more it sends counts
        data = message.get("bytes")
        if data is None:
            peer.close(1003, "binary y-websocket frames only")
            return
        bytes_in.inc(len(data))
        try:
            frame = parse_frame(data)
            kind = type(frame)
            if kind is SyncUpdate or kind is SyncStep2:
                # Over its rate (or its review's): this connection is not read for a
                # while, so the sender slows down and other reviews keep the loop.
                delay = peer.write_delay(room.budget, len(data), limits)
                if delay > 0:
                    svc.metrics.writes_throttled.inc()
                    await asyncio.sleep(delay)
                    if peer.closed:
                        return
            elif kind is QueryAwareness:
                peer.charge_presence(QUERY_COST)
                peer.spend_presence(QUERY_COST)
            await room.handle(peer, frame)
        except PresenceFlood as exc:
            peer.close(CLOSE_POLICY, str(exc))
            return
        except ProtocolError as exc:
            peer.close(1002, f"malformed frame: {exc}"[:120])
            return
        except RoomFailed:
            peer.close(1011, "storage unavailable: reconnect shortly")
            return
