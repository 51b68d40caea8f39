"""A lean ASGI websocket protocol for uvicorn (``uvicorn.Config(ws=LeanWebSocketProtocol)``).

uvicorn's sans-I/O websocket protocol (``ws="websockets-sansio"``) keeps, for every
connection, an asyncio.Queue (~3.3 KB: three deques), an asyncio.Event (~0.9 KB), a
__dict__ of some 35 attributes (~1.6 KB), the parsed request and response, and one or
two timers for its pings: ~11 KB of each idle connection (tracemalloc,
bench/idle_memory.py). This is the same protocol -- the same websockets
``ServerProtocol`` parses and serialises, the same ASGI messages, close codes, size
limit, read back-pressure and shutdown -- with what an idle connection keeps cut down:

- ``__slots__``; what every connection shares (config, app, server state) is one
  ``Shared`` object per server;
- an inbox made only when a message arrives while the app is busy, and one future
  while the app waits in ``receive`` (handed the next message directly);
- a flag for "writable", with waiters only while a send waits on a full buffer;
- the request's headers, the response and the scope are dropped once the handshake
  is done (the app keeps what it needs);
- pings from one timer for all connections (http/ws_keepalive.py);
- an app with ``direct_websocket`` (http/websocket.py) has its endpoint's coroutine
  run as the connection's task, without run_asgi's and the app's frames around it.

Raw frame writes (rooms/fanout.py) go through ``transport`` as with uvicorn's.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import struct
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import unquote

from uvicorn._types import ASGIReceiveEvent, ASGISendEvent, WebSocketScope
from uvicorn.config import Config
from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.utils import (
    ClientDisconnected,
    get_client_addr,
    get_local_addr,
    get_path_with_query_string,
    get_remote_addr,
    is_ssl,
)
from uvicorn.server import ServerState
from websockets.datastructures import Headers
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.server import ServerProtocol

from debrief.http.ws_keepalive import KeepaliveWheel

CLOSE_TIMEOUT_S = 10.0  # as uvicorn: a server close not answered by then drops the socket
STATUS_PHRASES: dict[int, str] = {int(code): code.phrase for code in HTTPStatus}
# Shared by every scope: nothing in the ASGI app changes them.
EXTENSIONS: dict[str, Any] = {"websocket.http.response": {}}
CONNECT: ASGIReceiveEvent = {"type": "websocket.connect"}
Data = bytes | bytearray | memoryview
DirectRoute = Callable[[Any, Any, Any], Coroutine[Any, Any, None] | None]


class Shared:
    """What every connection of one uvicorn server has in common."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        if not config.loaded:
            config.load()  # pragma: no cover
        self.config = config
        self.app = config.loaded_app
        self.loop = loop
        self.logger = logging.getLogger("uvicorn.error")
        self.root_path = config.root_path
        self.asgi = {"version": config.asgi_version, "spec_version": "2.4"}
        self.app_state = app_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.default_headers = server_state.default_headers
        self.max_size = config.ws_max_size
        self.keepalive: KeepaliveWheel | None = None
        interval = config.ws_ping_interval
        if interval is not None and interval > 0:
            self.keepalive = KeepaliveWheel(loop, interval, config.ws_ping_timeout)
        self.server_addr: tuple[str, int | None] | None = None
        # An app may run some websockets without its own coroutine around them: its
        # ``direct_websocket(scope, receive, send)`` returns the coroutine to run for
        # this connection, or None for the usual ASGI call (http/websocket.py).
        self.direct: DirectRoute | None = getattr(self.app, "direct_websocket", None)

    def local_addr(self, transport: asyncio.Transport) -> tuple[str, int | None] | None:
        """The server's address; one tuple for every connection that has the same."""
        addr = get_local_addr(transport)
        if addr != self.server_addr:
            self.server_addr = addr
        return self.server_addr


_shared: weakref.WeakKeyDictionary[ServerState, Shared] = weakref.WeakKeyDictionary()


class LeanWebSocketProtocol(asyncio.Protocol):
    __slots__ = (
        "close_sent",
        "close_timer",
        "conn",
        "disconnected",
        "fragments",
        "handshake_complete",
        "handshake_initiated",
        "inbox",
        "initial_response",
        "keepalive_slot",
        "ping_payload",
        "ping_sent_at",
        "read_paused",
        "response",
        "scope",
        "shared",
        "text",
        "transport",
        "waiter",
        "writable",
        "write_waiters",
    )

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        shared = _shared.get(server_state)
        if shared is None:
            loop = _loop or asyncio.get_running_loop()
            shared = _shared[server_state] = Shared(config, server_state, app_state, loop)
        self.shared = shared
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        # permessage-deflate is not offered (cli.py: it would compress once per peer)
        self.conn = ServerProtocol(max_size=shared.max_size, logger=shared.logger)
        self.scope: WebSocketScope | None = None
        self.response: Response | None = None
        self.inbox: deque[ASGIReceiveEvent] | None = None
        self.waiter: asyncio.Future[ASGIReceiveEvent] | None = None
        self.write_waiters: list[asyncio.Future[None]] | None = None
        self.writable = True
        self.read_paused = False
        self.handshake_initiated = False
        self.handshake_complete = False
        self.close_sent = False
        self.disconnected = False
        self.close_timer: asyncio.TimerHandle | None = None
        self.initial_response: tuple[int, list[tuple[str, str]], bytes] | None = None
        self.ping_payload: bytes | None = None
        self.ping_sent_at = 0.0
        self.keepalive_slot = -1
        self.fragments: list[Data] | None = None
        self.text = False

    # --- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.shared.connections.add(self)  # type: ignore[arg-type]
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_keepalive()
        code = 1005 if self.handshake_complete else 1006
        self.push({"type": "websocket.disconnect", "code": code})
        self.shared.connections.discard(self)
        self.handshake_complete = True
        self.disconnected = True
        # Unblock any send waiting for the buffer to drain: it never will now.
        self.resume_writing()
        self._cancel_close_timer()
        if exc is None:
            self.transport.close()

    def _cancel_close_timer(self) -> bool:
        """Stop waiting for the peer's answer to our close; True if we were waiting."""
        timer, self.close_timer = self.close_timer, None
        if timer is None:
            return False
        timer.cancel()
        return True

    def eof_received(self) -> None:
        pass

    def pause_writing(self) -> None:
        self.writable = False

    def resume_writing(self) -> None:
        self.writable = True
        waiters, self.write_waiters = self.write_waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        conn.receive_data(data)
        if conn.parser_exc is not None:
            self.handle_parser_exception()
            return
        for event in conn.events_received():
            if isinstance(event, Frame):
                self.handle_frame(event)
            elif isinstance(event, Request):
                self.handle_connect(event)

    # --- uvicorn's server calls this on shutdown ------------------------------------

    def shutdown(self) -> None:
        self.stop_keepalive()
        if self.close_sent:
            self._cancel_close_timer()
            self.transport.close()
            return
        if self.handshake_complete:
            self.push({"type": "websocket.disconnect", "code": 1012})
            self.conn.send_close(1012)
            self.write_output()
        else:
            self.send_500_response()
        self.transport.close()

    # --- incoming -----------------------------------------------------------------

    def push(self, message: ASGIReceiveEvent) -> None:
        """Give ``message`` to the app: to its pending ``receive``, else to the inbox."""
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(message)
                return
        if self.inbox is None:
            self.inbox = deque()
        self.inbox.append(message)

    def receive(self) -> Awaitable[ASGIReceiveEvent]:
        """ASGI ``receive``: the next message (a plain function returning a future, so a
        connection waiting for its next message keeps no coroutine frame for it)."""
        future: asyncio.Future[ASGIReceiveEvent] = self.shared.loop.create_future()
        inbox = self.inbox
        if inbox:
            future.set_result(inbox.popleft())
            if not inbox:
                self.inbox = None
                if self.read_paused:
                    self.read_paused = False
                    self.transport.resume_reading()
        else:
            self.waiter = future
        return future

    def handle_connect(self, event: Request) -> None:
        shared = self.shared
        response = self.conn.accept(event)
        self.handshake_initiated = True
        if response.status_code != 101:
            self.handshake_complete = True
            self.close_sent = True
            self.conn.send_response(response)
            self.write_output()
            self.transport.close()
            return
        self.response = response
        headers = [
            (key.encode("ascii"), value.encode("latin-1"))
            for key, value in event.headers.raw_items()
        ]
        raw_path, _, query_string = event.path.partition("?")
        subprotocols: list[str] = []
        for header in event.headers.get_all("Sec-WebSocket-Protocol"):
            subprotocols.extend(token.strip() for token in header.split(","))
        transport = self.transport
        scope: dict[str, Any] = {
            "type": "websocket",
            "asgi": shared.asgi,
            "http_version": "1.1",
            "scheme": "wss" if is_ssl(transport) else "ws",
            "server": shared.local_addr(transport),
            "client": get_remote_addr(transport),
            "root_path": shared.root_path,
            "path": shared.root_path + unquote(raw_path),
            "raw_path": shared.root_path.encode("ascii") + raw_path.encode("ascii"),
            "query_string": query_string.encode("ascii"),
            "headers": headers,
            "subprotocols": subprotocols,
            "state": shared.app_state.copy(),
            "extensions": EXTENSIONS,
        }
        # websockets' request parser keeps the request for as long as the connection
        # lives; nothing reads its headers again (the scope has its own copy).
        event.headers.clear()
        self.scope = cast(WebSocketScope, scope)
        self.push(CONNECT)
        direct = shared.direct(self.scope, self.receive, self.send) if shared.direct else None
        if direct is not None:
            # The app's own coroutine is the task (no run_asgi frame per connection);
            # app_done does what run_asgi does after it.
            task = shared.loop.create_task(direct)
            task.add_done_callback(self.app_done)
        else:
            task = shared.loop.create_task(self.run_asgi(self.scope))
            task.add_done_callback(shared.tasks.discard)
        shared.tasks.add(task)

    def handle_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is Opcode.BINARY or opcode is Opcode.TEXT:
            self.text = opcode is Opcode.TEXT
            if frame.fin:
                self.deliver(frame.data)
            else:
                self.fragments = [frame.data]
        elif opcode is Opcode.CONT:
            if self.fragments is None:
                self.fragments = []
            self.fragments.append(frame.data)
            if frame.fin:
                data, self.fragments = b"".join(self.fragments), None
                self.deliver(data)
        elif opcode is Opcode.PING:
            self.write_output()  # the pong websockets queued
        elif opcode is Opcode.PONG:
            if self.ping_payload is not None and bytes(frame.data) == self.ping_payload:
                self.ping_payload = None
        elif opcode is Opcode.CLOSE:
            self.handle_close()

    def deliver(self, payload: Data) -> None:
        data = payload if type(payload) is bytes else bytes(payload)
        if self.close_sent:
            # The app is past `websocket.close`: discard the message rather than queueing
            # it, so reads stay active until the peer's close reply arrives.
            return
        if self.text:
            try:
                self.push({"type": "websocket.receive", "text": data.decode()})
            except UnicodeDecodeError:
                self.shared.logger.exception("Invalid UTF-8 sequence received from client.")
                self.conn.send_close(1007)
                self.handle_parser_exception()
                return
        else:
            self.push({"type": "websocket.receive", "bytes": data})
        if self.inbox and not self.read_paused:
            # The app is busy: read no further until it takes what it has.
            self.read_paused = True
            self.transport.pause_reading()

    def handle_close(self) -> None:
        if self.close_sent:
            # The peer echoed our close frame: the closing handshake is complete.
            if self._cancel_close_timer():
                self.transport.close()
            return
        if not self.transport.is_closing():
            close = self.conn.close_rcvd
            assert close is not None
            self.push({"type": "websocket.disconnect", "code": close.code, "reason": close.reason})
            self.write_output()
            self.transport.close()

    def handle_parser_exception(self) -> None:
        close = self.conn.close_sent
        assert close is not None
        self.push({"type": "websocket.disconnect", "code": close.code, "reason": close.reason})
        self.write_output()
        self.close_sent = True
        self.transport.close()

    # --- keepalive (http/ws_keepalive.py) ----------------------------------------------

    def start_keepalive(self) -> None:
        wheel = self.shared.keepalive
        if wheel is not None and self.keepalive_slot < 0:
            self.keepalive_slot = wheel.add(self)

    def stop_keepalive(self) -> None:
        wheel = self.shared.keepalive
        if wheel is not None and self.keepalive_slot >= 0:
            wheel.discard(self, self.keepalive_slot)
            self.keepalive_slot = -1
        self.ping_payload = None

    def keepalive_tick(self, now: float) -> None:
        if self.close_sent or self.transport.is_closing():
            return
        if self.ping_payload is None:
            # A random payload identifies this ping; a stale or unsolicited pong is ignored.
            self.ping_payload = struct.pack("!I", random.getrandbits(32))
            self.ping_sent_at = now
            self.conn.send_ping(self.ping_payload)
            self.write_output()
            return
        wheel = self.shared.keepalive
        assert wheel is not None
        if now - self.ping_sent_at >= wheel.timeout:
            self.stop_keepalive()
            logger = self.shared.logger
            if logger.level <= TRACE_LOG_LEVEL:
                logger.log(TRACE_LOG_LEVEL, "%s - WebSocket keepalive ping timeout", self.client)
            self.conn.fail(1011, "keepalive ping timeout")
            self.write_output()
            self.close_sent = True
            self.transport.close()

    @property
    def client(self) -> str:
        return get_client_addr(self.scope) if self.scope is not None else ""

    # --- the app ----------------------------------------------------------------------

    async def run_asgi(self, scope: WebSocketScope) -> None:
        shared = self.shared
        try:
            result = await shared.app(scope, self.receive, self.send)
        except ClientDisconnected:
            pass
        except BaseException:
            shared.logger.exception("Exception in ASGI application\n")
            self.send_500_response()
        else:
            if not self.handshake_complete:
                shared.logger.error("ASGI callable returned without completing handshake.")
                self.send_500_response()
            elif result is not None:
                shared.logger.error("ASGI callable should return None, but returned '%s'.", result)
        if self.close_timer is None:
            self.transport.close()

    def app_done(self, task: asyncio.Task[None]) -> None:
        """What run_asgi does after the app, for a task that runs the app's coroutine."""
        shared = self.shared
        shared.tasks.discard(task)
        exc = None if task.cancelled() else task.exception()
        if task.cancelled():
            shared.logger.error("ASGI application cancelled")
            self.send_500_response()
        elif exc is not None and not isinstance(exc, ClientDisconnected):
            shared.logger.error("Exception in ASGI application\n", exc_info=exc)
            self.send_500_response()
        elif exc is None and not self.handshake_complete:
            shared.logger.error("ASGI callable returned without completing handshake.")
            self.send_500_response()
        if self.close_timer is None:
            self.transport.close()

    def write_output(self) -> None:
        self.transport.write(b"".join(self.conn.data_to_send()))

    def send_500_response(self) -> None:
        if self.initial_response or self.handshake_complete:
            return
        self.conn.send_response(self.conn.reject(500, "Internal Server Error"))
        self.write_output()

    async def wait_writable(self) -> None:
        waiter: asyncio.Future[None] = self.shared.loop.create_future()
        if self.write_waiters is None:
            self.write_waiters = []
        self.write_waiters.append(waiter)
        await waiter

    async def send(self, event: ASGISendEvent) -> None:
        message = cast(dict[str, Any], event)
        if not self.writable:
            await self.wait_writable()
        if self.disconnected:
            raise ClientDisconnected()
        kind = message["type"]
        if not self.handshake_complete and self.initial_response is None:
            self.send_handshake(message)
        elif not self.close_sent and self.initial_response is None:
            try:
                if kind == "websocket.send":
                    data = message.get("bytes")
                    text = message.get("text")
                    if data is not None:
                        self.conn.send_binary(data)
                    elif text is not None:
                        self.conn.send_text(text.encode())
                    self.write_output()
                elif kind == "websocket.close":
                    self.close(message.get("code", 1000), message.get("reason", "") or "")
                else:
                    raise RuntimeError(
                        "Expected ASGI message 'websocket.send' or 'websocket.close', "
                        f"but got '{kind}'."
                    )
            except InvalidState:
                raise ClientDisconnected() from None
        elif self.initial_response is not None:
            self.send_http_response(message)
        else:
            raise RuntimeError(
                f"Unexpected ASGI message '{kind}', after sending 'websocket.close'."
            )

    def close(self, code: int, reason: str) -> None:
        """The app's ``websocket.close`` after the handshake: send the close frame, keep
        reading for the reply, drop the socket if none comes within CLOSE_TIMEOUT_S."""
        if self.transport.is_closing():
            return
        self.push({"type": "websocket.disconnect", "code": code, "reason": reason})
        self.conn.send_close(code, reason)
        self.write_output()
        self.close_sent = True
        self.stop_keepalive()
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.close_timer = self.shared.loop.call_later(CLOSE_TIMEOUT_S, self.transport.close)

    def send_handshake(self, message: dict[str, Any]) -> None:
        shared = self.shared
        kind = message["type"]
        scope = self.scope
        assert scope is not None
        if kind == "websocket.accept":
            shared.logger.info(
                '%s - "WebSocket %s" [accepted]',
                get_client_addr(scope),
                get_path_with_query_string(scope),
            )
            headers = [
                (name.decode("latin-1").lower(), value.decode("latin-1"))
                for name, value in (shared.default_headers + list(message.get("headers", [])))
            ]
            subprotocol = message.get("subprotocol")
            if subprotocol:
                headers.append(("Sec-WebSocket-Protocol", subprotocol))
            response, self.response = self.response, None  # not needed past this point
            assert response is not None
            del response.headers["Date"]
            response.headers.update(headers)
            if not self.transport.is_closing():
                self.handshake_complete = True
                self.conn.send_response(response)
                self.write_output()
                self.start_keepalive()
            self.scope = None  # the app has its own reference while it needs one
        elif kind == "websocket.close":
            self.push({"type": "websocket.disconnect", "code": 1006})
            shared.logger.info(
                '%s - "WebSocket %s" 403', get_client_addr(scope), get_path_with_query_string(scope)
            )
            self.response = None
            self.conn.send_response(self.conn.reject(HTTPStatus.FORBIDDEN, ""))
            self.close_sent = True
            self.handshake_complete = True
            self.write_output()
            self.transport.close()
        elif kind == "websocket.http.response.start":
            status = message["status"]
            if not 100 <= status < 600:
                raise RuntimeError(f"Invalid HTTP status code '{status}' in response.")
            shared.logger.info(
                '%s - "WebSocket %s" %d',
                get_client_addr(scope),
                get_path_with_query_string(scope),
                status,
            )
            headers = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in list(message.get("headers", []))
            ]
            self.initial_response = (status, headers, b"")
        else:
            raise RuntimeError(
                "Expected ASGI message 'websocket.accept', 'websocket.close' "
                f"or 'websocket.http.response.start' but got '{kind}'."
            )

    def send_http_response(self, message: dict[str, Any]) -> None:
        """A denial response (ASGI's websocket.http.response extension)."""
        if message["type"] != "websocket.http.response.body":
            raise RuntimeError(
                f"Expected ASGI message 'websocket.http.response.body' but got '{message['type']}'."
            )
        assert self.initial_response is not None
        status, headers, body = self.initial_response
        body += message["body"]
        self.initial_response = (status, headers, body)
        if message.get("more_body", False):
            return
        response_headers = Headers(headers)
        response_headers.setdefault("Date", email.utils.formatdate(usegmt=True))
        response_headers.setdefault("Connection", "close")
        response_headers.setdefault("Content-Length", str(len(body)))
        response_headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        response = Response(status, STATUS_PHRASES.get(status, ""), response_headers, body)
        self.push({"type": "websocket.disconnect", "code": 1006})
        self.response = None
        self.conn.send_response(response)
        self.close_sent = True
        self.write_output()
        self.transport.close()
