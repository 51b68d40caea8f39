"""Wake-ups for a process waiting on a lock another process holds in Redis.

A waiter whose SET NX failed leaves a flag beside the lock (in the same script). The
holder's unlock, finding the flag, publishes the lock's name. Each process listens on
one pub/sub connection, opened at its first wait, and wakes its waiters on that name,
which try again at once instead of sleeping out their backoff (2, 4, 8 … ms: up to
80 ms of a loaded note's time went there).

A wake-up is only a hint: the SET NX decides who holds the lock, and the backoff
stays as the fallback while the listener is down or a message is lost. So a lost
connection costs latency, never correctness.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from redis.exceptions import RedisError

from debrief.tasks import cancel_and_wait

log = logging.getLogger(__name__)

# Take the lock, or leave a flag saying that someone waits for it.
ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 0
"""

# Release a lock only if we still hold it (our token), never someone else's; when a
# waiter left its flag, tell the waiting processes.
UNLOCK = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
if redis.call('DEL', KEYS[2]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1
"""

RETRY_S = (0.1, 0.2, 0.5, 1.0, 2.0)  # the listener's reconnect backoff


class UnlockListener:
    """Routes published unlocks to this process's waiters, by lock name."""

    def __init__(self, connect: Callable[..., Any], channel: str, client_name: str) -> None:
        self._connect = connect  # RedisStorage.connect: a client of its own
        self.channel = channel
        self.client_name = client_name  # names the connection in CLIENT LIST
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self.subscribed = asyncio.Event()  # wake-ups flow while it is set
        self.subscriptions = 0  # connections made so far (a new one after each loss)

    @contextlib.contextmanager
    def watch(self, name: str) -> Iterator[asyncio.Event]:
        """An event set by every unlock of ``name`` published while the block runs."""
        woken = asyncio.Event()
        waiters = self._waiters.setdefault(name, set())
        waiters.add(woken)
        try:
            yield woken
        finally:
            waiters.discard(woken)
            if not waiters:
                del self._waiters[name]

    def start(self) -> None:
        """Listen from now on (idempotent); a process that never waits never listens."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def close(self) -> None:
        task, self._task = self._task, None
        await cancel_and_wait(task)
        self.subscribed.clear()

    def _wake(self, name: str) -> None:
        for woken in self._waiters.get(name, ()):
            woken.set()

    def _wake_all(self) -> None:
        # Messages may have been missed while the connection was down: everyone retries.
        for waiters in self._waiters.values():
            for woken in waiters:
                woken.set()

    async def _listen(self) -> None:
        failures = 0
        while True:
            client = self._connect(
                socket_timeout=None, max_connections=1, client_name=self.client_name
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscriptions += 1
                self.subscribed.set()
                self._wake_all()
                async for message in pubsub.listen():
                    failures = 0
                    if message.get("type") == "message":
                        data = message["data"]
                        self._wake(data.decode() if isinstance(data, bytes) else str(data))
            except (RedisError, OSError) as exc:
                log.warning("lock wake-ups paused (waiters poll meanwhile): %s", exc)
            finally:
                self.subscribed.clear()
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()
            self._wake_all()
            await asyncio.sleep(RETRY_S[min(failures, len(RETRY_S) - 1)])
            failures += 1
