"""One multiplexed Redis connection for the hot commands: hiredis packs and parses.

redis-py checks a connection out of a pool for every command or pipeline, builds a
command stack, wraps the call in its retry and timeout helpers and parses each reply
through a callback table: a py-spy profile of two processes taking notes put about half
of their CPU in it. Redis answers each connection's commands in order, so one
connection can carry every caller at once: each batch of commands is written as it
comes (the writes of one loop turn go out in one send) and its replies are the next
ones to arrive. hiredis (the parser redis-py uses too) packs the commands and parses the
replies in C.

Only commands that answer at once go here. A blocking read (XREAD BLOCK) keeps a client
of its own, and so does a subscriber: a client made with ``on_push`` hands every
published message (``["message", channel, data]``, which only a subscribed connection
receives) to it instead of to a waiting batch; SUBSCRIBE and UNSUBSCRIBE of one channel
each answer once, as any command (redis_relay.py).

Nothing is retried: a command that may have run is never sent twice. A connection that
fails or closes fails every batch waiting on it, and the next batch opens a new one. A
batch Redis has not answered within ``command_timeout`` closes the connection under
every waiter (a hung server must not hold the meeting forever).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlparse

import hiredis

Command = Sequence[bytes | str | int | float]
# A subscriber's handler of each published message: (channel, data). It runs inside the
# protocol's data_received, so it must not raise (the connection would go with it).
PushHandler = Callable[[bytes, bytes], None]


class RespError(Exception):
    """Talking to Redis failed: the connection, the protocol, or the command itself."""


class ReplyError(RespError):
    """Redis answered a command with an error (``-ERR ...``)."""


class ConnectionLost(RespError):
    """The connection closed or could not be opened; the batch may or may not have run."""


class _Batch:
    """Replies expected for one call, and where to deliver them."""

    __slots__ = ("expected", "future", "replies", "sent_at")

    def __init__(self, expected: int, future: asyncio.Future[list[Any]], sent_at: float) -> None:
        self.expected = expected
        self.replies: list[Any] = []
        self.future = future
        self.sent_at = sent_at


class _RespProtocol(asyncio.Protocol):
    def __init__(
        self,
        lost: asyncio.Future[None],
        on_push: PushHandler | None = None,
        on_lost: Callable[[RespError], None] | None = None,
    ) -> None:
        self.on_push = on_push
        self.on_lost = on_lost
        self.transport: asyncio.Transport | None = None
        self.reader = hiredis.Reader(replyError=ReplyError)
        self.waiting: deque[_Batch] = deque()
        self.out: list[bytes] = []
        self.flush_scheduled = False
        self.closed: BaseException | None = None
        self.lost = lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def send(self, data: bytes, batch: _Batch) -> None:
        self.waiting.append(batch)
        self.out.append(data)
        if not self.flush_scheduled:
            # Everything written this loop turn goes out in one send.
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self.flush_scheduled = False
        if self.closed is None and self.transport is not None and self.out:
            data = b"".join(self.out)
            self.out.clear()
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        waiting = self.waiting
        try:
            while (reply := self.reader.gets()) is not False:
                if self.on_push is not None and _is_message(reply):
                    self.on_push(reply[1], reply[2])
                    continue
                if not waiting:
                    raise RespError("redis sent a reply nobody asked for")
                batch = waiting[0]
                batch.replies.append(reply)
                if len(batch.replies) == batch.expected:
                    waiting.popleft()
                    if not batch.future.done():  # else its caller gave up (cancelled)
                        batch.future.set_result(batch.replies)
        except (hiredis.ProtocolError, RespError) as exc:
            self.fail(RespError(f"redis protocol: {exc}"))
            if self.transport is not None:
                self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        error = ConnectionLost(f"redis connection lost: {exc or 'closed by server'}")
        self.fail(error)
        if not self.lost.done():
            self.lost.set_result(None)
        if self.on_lost is not None:
            self.on_lost(self.closed if isinstance(self.closed, RespError) else error)

    def fail(self, exc: RespError) -> None:
        if self.closed is None:
            self.closed = exc
        while self.waiting:
            batch = self.waiting.popleft()
            if not batch.future.done():
                batch.future.set_exception(exc)
        self.out.clear()


@dataclass(frozen=True)
class Address:
    """Where a Redis URL points: ``redis://[user:password@]host[:port][/db]``, the same
    with ``rediss://`` (TLS), or ``unix:///path/to/socket[?db=N]``."""

    host: str = "127.0.0.1"
    port: int = 6379
    tls: bool = False
    socket_path: str | None = None
    username: str | None = None
    password: str | None = None
    db: int = 0

    @classmethod
    def parse(cls, url: str) -> Address:
        parts = urlparse(url)
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        query = parse_qs(parts.query)
        try:
            if parts.scheme == "unix":
                if not parts.path:
                    raise ValueError("no socket path")
                db = int(query.get("db", ["0"])[0])
                return cls(socket_path=parts.path, username=user, password=password, db=db)
            if parts.scheme not in ("redis", "rediss"):
                raise ValueError("the scheme is not redis://, rediss:// or unix://")
            path = parts.path.lstrip("/")
            db = int(path or query.get("db", ["0"])[0])
            port = parts.port or 6379
        except ValueError as exc:
            # (the URL itself is not repeated: it may hold a password)
            raise ValueError(f"not a Redis URL: {exc}") from exc
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=port,
            tls=parts.scheme == "rediss",
            username=user,
            password=password,
            db=db,
        )

    def __str__(self) -> str:
        return self.socket_path or f"{self.host}:{self.port}"


def _is_message(reply: Any) -> bool:
    return type(reply) is list and len(reply) == 3 and reply[0] == b"message"


class RespClient:
    """Commands to one Redis over one shared connection, opened on first use.

    ``on_push`` makes it a subscriber's client (see the module's docstring); ``on_lost``
    hears of every connection that closed, with what failed its waiting batches (a
    subscriber must know: its subscriptions went with the connection)."""

    def __init__(
        self,
        url: str,
        *,
        command_timeout: float = 10.0,
        connect_timeout: float = 2.0,
        on_push: PushHandler | None = None,
        on_lost: Callable[[RespError], None] | None = None,
    ) -> None:
        self.on_push = on_push
        self.on_lost = on_lost
        self.address = Address.parse(url)
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        self._protocol: _RespProtocol | None = None
        self._connecting: asyncio.Future[_RespProtocol] | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._closing = False

    async def execute(self, *commands: Command) -> list[Any]:
        """Run ``commands`` in order; their replies. An error reply raises ReplyError
        (the others have run all the same, as in a redis-py pipeline)."""
        replies = await self._send(hiredis_pack(commands), len(commands))
        for reply in replies:
            if isinstance(reply, ReplyError):
                raise reply
        return replies

    async def call(self, *args: bytes | str | int | float) -> Any:
        """One command's reply."""
        return (await self.execute(args))[0]

    async def transaction(self, *commands: Command) -> list[Any]:
        """``commands`` in one MULTI/EXEC: all of them or none; their replies. A command
        that failed inside it raises ReplyError (Redis ran the others)."""
        packed = hiredis.pack_command(("MULTI",)) + hiredis_pack(commands)
        packed += hiredis.pack_command(("EXEC",))
        replies = await self._send(packed, len(commands) + 2)
        for reply in replies[:-1]:  # +OK, +QUEUED ...: a command Redis refused to queue
            if isinstance(reply, ReplyError):
                raise reply
        results = replies[-1]
        if isinstance(results, ReplyError):
            raise results  # EXECABORT
        if results is None:
            raise RespError("redis: transaction aborted")
        for reply in results:
            if isinstance(reply, ReplyError):
                raise reply
        return list(results)

    async def _send(self, packed: bytes, expected: int) -> list[Any]:
        if expected == 0:
            return []
        protocol = self._protocol
        if protocol is None or protocol.closed is not None:
            protocol = await self._connect()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Any]] = loop.create_future()
        protocol.send(packed, _Batch(expected, future, loop.time()))
        if self._watchdog is None:
            self._arm_watchdog()
        return await future

    async def _connect(self) -> _RespProtocol:
        if self._closing:
            raise ConnectionLost("redis client is closed")
        if self._connecting is None or self._connecting.done():  # (done: a failure nobody saw)
            self._connecting = asyncio.ensure_future(self._open())
        connecting = self._connecting
        try:
            # Every caller waits for the same connection; one caller's cancellation
            # must not cancel it for the others.
            return await asyncio.shield(connecting)
        finally:
            if connecting.done() and self._connecting is connecting:
                self._connecting = None

    async def _open(self) -> _RespProtocol:
        loop = asyncio.get_running_loop()
        lost: asyncio.Future[None] = loop.create_future()
        address = self.address

        def protocol_factory() -> _RespProtocol:
            return _RespProtocol(lost, self.on_push, self.on_lost)

        try:
            async with asyncio.timeout(self.connect_timeout):
                if address.socket_path is not None:
                    _, protocol = await loop.create_unix_connection(
                        protocol_factory, address.socket_path
                    )
                else:
                    _, protocol = await loop.create_connection(
                        protocol_factory,
                        address.host,
                        address.port,
                        ssl=ssl.create_default_context() if address.tls else None,
                    )
        except (OSError, TimeoutError) as exc:
            raise ConnectionLost(f"redis: cannot connect to {address}: {exc}") from exc
        if self._closing:  # closed while connecting: nobody will close this one
            if protocol.transport is not None:
                protocol.transport.close()
            raise ConnectionLost("redis client is closed")
        hello: list[Command] = []
        if address.password is not None:
            auth: list[str] = ["AUTH"] + ([address.username] if address.username else [])
            hello.append([*auth, address.password])
        if address.db:
            hello.append(["SELECT", address.db])
        if hello:
            future: asyncio.Future[list[Any]] = loop.create_future()
            protocol.send(hiredis_pack(hello), _Batch(len(hello), future, loop.time()))
            try:
                async with asyncio.timeout(self.connect_timeout):
                    replies = await future
            except TimeoutError as exc:
                if protocol.transport is not None:
                    protocol.transport.abort()
                raise ConnectionLost("redis: no answer to AUTH/SELECT") from exc
            for reply in replies:
                if isinstance(reply, ReplyError):
                    if protocol.transport is not None:
                        protocol.transport.close()
                    raise reply
        self._protocol = protocol
        return protocol

    def _arm_watchdog(self) -> None:
        # a quarter of the limit: a hung batch is cut within 1.25x of it
        loop = asyncio.get_running_loop()
        self._watchdog = loop.call_later(self.command_timeout / 4, self._check_overdue)

    def _check_overdue(self) -> None:
        self._watchdog = None
        protocol = self._protocol
        if protocol is None or not protocol.waiting:
            return  # idle: the next batch arms it again
        oldest = protocol.waiting[0]
        if asyncio.get_running_loop().time() - oldest.sent_at > self.command_timeout:
            protocol.fail(ConnectionLost(f"redis: no answer within {self.command_timeout:g} s"))
            if protocol.transport is not None:
                protocol.transport.abort()
            return
        self._arm_watchdog()

    async def close(self) -> None:
        self._closing = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.flush()
            protocol.transport.close()
            await protocol.lost


def hiredis_pack(commands: Sequence[Command]) -> bytes:
    # (hiredis's stub types the argument as a 1-tuple; it takes any length)
    return b"".join(hiredis.pack_command(tuple(command)) for command in commands)  # type: ignore[arg-type]
