"""A Redis connection pool that waits for a free connection, without the bookkeeping.

redis-py 8's BlockingConnectionPool takes a condition, a timeout and the pool's lock,
records several observability counters and dispatches an event for every connection
it hands out and takes back. A py-spy profile of two processes taking notes on Redis
put 11.5 % of the server's samples there, on every command. This pool keeps what we
use of it: at most ``max_connections``, a caller waiting up to ``timeout`` seconds for
one to come back (then ConnectionError), and the pool's check that a connection it
hands out is still open (after a Redis restart an idle one is not: see
`no_maintenance_notifications` in storage/redis.py).

A command that Redis never answers (a hung server, a frozen VM) is cut off here too:
with ``command_timeout`` set, a connection handed out for longer than that is closed
under its caller, whose read then fails (ConnectionError). redis-py's own
``socket_timeout`` does the same per command with an `asyncio.wait_for` on every send
(a task on Python 3.11) and a timeout context on every read: 6-8 % of a server's CPU
per note in the meeting bench. One timer per pool, while connections are out, does it
for all of them.

Everything here runs on the event loop between awaits, so the lists need no lock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError


class WaitingConnectionPool(aioredis.ConnectionPool):
    def __init__(
        self, *, timeout: float = 5.0, command_timeout: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.timeout = timeout
        self.command_timeout = command_timeout
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._out_since: dict[AbstractConnection, float] = {}  # handed out at (loop time)
        self._watchdog: asyncio.TimerHandle | None = None

    def _full(self) -> bool:
        return not self._available_connections and (
            len(self._in_use_connections) >= self.max_connections
        )

    async def get_connection(self, *args: Any, **options: Any) -> AbstractConnection:
        if self._full():
            await self._wait_for_one()
        connection = self.get_available_connection()
        if self.command_timeout is not None:  # from here: connecting is a command too
            self._out_since[connection] = asyncio.get_running_loop().time()
            self._arm_watchdog()
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def _wait_for_one(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                while self._full():
                    waiter = loop.create_future()
                    self._waiters.append(waiter)
                    try:
                        await waiter
                    finally:
                        if not waiter.done():  # cancelled or timed out: not a taker
                            waiter.cancel()
        except BaseException as exc:
            # Perhaps woken, but leaving without a connection: the next waiter's turn.
            if not self._full():
                self._wake_next()
            if isinstance(exc, TimeoutError):
                raise RedisConnectionError("No connection available.") from exc
            raise

    async def release(self, connection: AbstractConnection) -> None:
        self._out_since.pop(connection, None)
        self._in_use_connections.discard(connection)
        if connection.should_reconnect():
            await connection.disconnect()
        self._available_connections.append(connection)
        self._wake_next()

    def _wake_next(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def disconnect(self, inuse_connections: bool = True) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        await super().disconnect(inuse_connections)

    def _arm_watchdog(self) -> None:
        if self._watchdog is None and self.command_timeout is not None:
            # a quarter of the limit: a hung command is cut within 1.25x of it
            delay = self.command_timeout / 4
            self._watchdog = asyncio.get_running_loop().call_later(delay, self._cut_overdue)

    def _cut_overdue(self) -> None:
        self._watchdog = None
        assert self.command_timeout is not None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for connection, since in list(self._out_since.items()):
            if now - since > self.command_timeout:
                del self._out_since[connection]
                # Its caller's read fails at once; the pool reconnects it on next use.
                task = loop.create_task(connection.disconnect(nowait=True))
                task.add_done_callback(_ignore_outcome)
        if self._out_since:
            self._arm_watchdog()


def _ignore_outcome(task: asyncio.Task[None]) -> None:
    if not task.cancelled():
        task.exception()  # a failed close of a dead connection is nothing to report
