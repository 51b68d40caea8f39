"""The scale-out backend: everything in Redis, shared by any number of processes.

Keys (all under ``prefix``):
- ``doc:{key}:log``   a Stream per doc: the durable update log. Each entry holds the
  update (``u``) and the id of the process that wrote it (``n``), so the relay
  (storage/redis_relay.py) can skip its own entries. Positions are stream ids.
- ``doc:{key}:snap``  a hash: ``data`` (the snapshot) and ``upto`` (the stream id it
  covers). Compaction is one Lua script: it only ever advances ``upto``, and trims the
  stream with XTRIM MINID to at most ``upto`` (keeping a short tail for lagging readers;
  load_doc skips whatever the snapshot already holds).
- ``rec:{kind}:{id}`` a hash: ``data`` (JSON) and ``review``; ``idx:{kind}:{review}`` a
  sorted set of ids scored by a global creation counter (``seq``) for ordered listing.
- ``vote:{ballot}:{voter}`` and ``tally:{ballot}``: hashes of counts per target, changed
  only by Lua scripts, so the limit check and the write are one atomic step.
- ``ix:z:{index}`` a sorted set (member -> score) and ``ix:d:{index}`` a hash (member ->
  JSON summary) per sorted index, always changed together in one MULTI/EXEC; ranges are
  read by one Lua script so the scores and summaries agree.

Every redis error leaves as StorageError. Commands are never retried: a retried XADD
could append an update twice.

Two clients: every command that answers at once (locks, records, votes, appends, doc
loads, indexes) goes over one shared connection of storage/resp.py, a tenth of
redis-py's CPU per round trip; redis-py keeps the whole-store SCAN passes and the unlock
listener's subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import secrets
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from debrief import fast_json
from debrief.storage.base import (
    IndexEntry,
    RecordWrite,
    Storage,
    StorageError,
    StoredDoc,
    VoteOutcome,
)
from debrief.storage.group_commit import GroupCommit
from debrief.storage.redis_pool import WaitingConnectionPool
from debrief.storage.redis_unlocks import ACQUIRE, UNLOCK, UnlockListener
from debrief.storage.resp import Command, RespClient, RespError

T = TypeVar("T")


@dataclass
class Lease:
    """A lock this task holds: what its unlock needs, and whether an append took it."""

    name: str
    keys: list[str]
    token: str
    ride: bool = False  # the holder's next write (records, an append, a vote) lets it go
    sent: bool = False  # a write carries the unlock
    released: bool = False  # ... and it ran


# The Redis lock the current task holds (storage/redis.py `_held`), for its last write.
_lease: contextvars.ContextVar[Lease | None] = contextvars.ContextVar("lease", default=None)

# The longest a command may wait for Redis's answer before its connection is cut.
COMMAND_TIMEOUT_S = 10.0

# Stream entries kept behind a snapshot, so a process whose tailer lags a little never
# finds entries gone that it has not read yet (ms of stream-id time).
TRIM_LAG_MS = 60_000

COMPACT = """
local cur = redis.call('HGET', KEYS[1], 'upto')
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local ums, useq = parse(ARGV[2])
if cur then
  local cms, cseq = parse(cur)
  if cms > ums or (cms == ums and cseq >= useq) then return 0 end
end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'upto', ARGV[2])
redis.call('XTRIM', KEYS[2], 'MINID', ARGV[3])
return 1
"""

# A lock outlives a crashed holder by at most this long; commands finish far sooner.
LOCK_TTL_MS = 10_000
LOCK_WAIT_S = 10.0
# An append queued for a group commit: doc key, update, records, and the lock it lets go.
RedisAppend = tuple[str, bytes, tuple[RecordWrite, ...], "Lease | None"]
# While the unlocks are heard, a waiter's timed retry only covers a lost wake-up.
HEARD_RETRY_S = 0.01

# A review's records of one kind in creation order, in one round trip (not the ids, then
# the records).
LIST_RECORDS = """
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for i, id in ipairs(ids) do
  out[i] = redis.call('HGET', ARGV[1] .. id, 'data') or false
end
return out
"""

PUT_RECORD = """
local old = redis.call('HGET', KEYS[1], 'review')
if old and old ~= '' and old ~= ARGV[2] then
  redis.call('ZREM', ARGV[4] .. old, ARGV[3])
end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'review', ARGV[2])
if ARGV[2] ~= '' then
  if not redis.call('ZSCORE', ARGV[4] .. ARGV[2], ARGV[3]) then
    redis.call('ZADD', ARGV[4] .. ARGV[2], redis.call('INCR', KEYS[2]), ARGV[3])
  end
end
return 1
"""

DELETE_RECORD = """
local review = redis.call('HGET', KEYS[1], 'review')
if not review then return 0 end
if review ~= '' then redis.call('ZREM', ARGV[2] .. review, ARGV[1]) end
redis.call('DEL', KEYS[1])
return 1
"""

CAST_VOTE = """
local total = 0
for _, n in ipairs(redis.call('HVALS', KEYS[1])) do total = total + tonumber(n) end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
return 1
"""

RETRACT_VOTE = """
local n = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if n <= 0 then return 0 end
if n == 1 then redis.call('HDEL', KEYS[1], ARGV[1])
else redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
local t = redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
if t <= 0 then redis.call('HDEL', KEYS[2], ARGV[1]) end
return 1
"""


# Members in score order (ties: bytewise by member, which ZRANGEBYSCORE gives), each with
# its summary, in one atomic step. HMGET in slices: Lua's unpack has a stack limit.
INDEX_RANGE = """
local ids
if ARGV[5] == '1' then
  ids = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[1],
                   'WITHSCORES', 'LIMIT', ARGV[3], ARGV[4])
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[2],
                   'WITHSCORES', 'LIMIT', ARGV[3], ARGV[4])
end
local out = {}
local n = #ids / 2
local i = 1
while i <= n do
  local last = math.min(i + 499, n)
  local members = {}
  for j = i, last do members[#members + 1] = ids[2 * j - 1] end
  local data = redis.call('HMGET', KEYS[2], unpack(members))
  for j = i, last do
    out[#out + 1] = ids[2 * j - 1]
    out[#out + 1] = ids[2 * j]
    out[#out + 1] = data[j - i + 1] or '{}'
  end
  i = last + 1
end
return out
"""

# Rows asked of Redis per step by whole-store passes (SCAN COUNT, pipelined reads).
PAGE_KEYS = 500
# Deleting a review walks the whole keyspace four times (SCAN MATCH; rare, an admin's
# act): larger steps, fewer round trips.
PURGE_SCAN = 2_000


def glob_escape(value: str) -> str:
    """``value`` matched literally in a SCAN MATCH pattern."""
    return "".join("\\" + c if c in "*?[]\\" else c for c in value)


def score_arg(value: float) -> str:
    """A score bound as Redis writes infinities."""
    if value == float("inf"):
        return "+inf"
    if value == float("-inf"):
        return "-inf"
    return repr(float(value))


def parse_id(position: str) -> tuple[int, int]:
    """A stream id ("ms-seq", or a bare "0") as a comparable pair."""
    ms, _, seq = position.partition("-")
    return int(ms), int(seq or 0)


def format_id(ms: int, seq: int) -> str:
    return f"{ms}-{seq}"


def text(value: Any) -> str:
    """A redis reply (bytes: the clients do not decode) as str."""
    return value.decode() if isinstance(value, bytes) else str(value)


def pairs(flat: list[Any]) -> dict[Any, Any]:
    """A flat ``[field, value, field, value, ...]`` reply (HGETALL) as a mapping."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def vote_counts(raw: Mapping[Any, Any]) -> dict[str, int]:
    """A ballot hash as counts per target: those above zero. A value that is not a whole
    number (a hand-edited key, say) is left out rather than failing every reader."""
    counts: dict[str, int] = {}
    for key, value in raw.items():
        try:
            n = int(value)
        except (TypeError, ValueError):
            continue
        if n > 0:
            counts[text(key)] = n
    return counts


def no_maintenance_notifications() -> dict[str, Any]:
    """Pool options that keep redis-py's check of a pooled connection before reuse.

    redis-py 8 turns maintenance notifications (planned-failover events of managed
    Redis) on by default, and while they are on its pool skips the check that a
    connection it hands out is still open. After a Redis restart the first command on
    each connection that sat idle across it then failed ("Connection closed by server");
    we never retry, so that was a reconnecting client's first update failing its room
    (1011). We use no such events: off, and stale connections are replaced again.
    Older redis-py has neither the option nor the skip.
    """
    if "maint_notifications_config" not in inspect.signature(aioredis.ConnectionPool).parameters:
        return {}
    from redis.maint_notifications import MaintNotificationsConfig

    return {"maint_notifications_config": MaintNotificationsConfig(enabled=False)}


class RedisStorage(Storage):
    shared = True  # several processes serve the same reviews

    def __init__(
        self, url: str, prefix: str = "debrief:", command_timeout: float = COMMAND_TIMEOUT_S
    ) -> None:
        self.url = url
        self.prefix = prefix
        self.command_timeout = command_timeout
        # Tags this process's stream entries (see storage/redis_relay.py).
        self.node_id = secrets.token_hex(8)
        self._client: aioredis.Redis | None = None
        # Commands go over one lean connection (storage/resp.py); the redis-py client
        # (`client`) keeps the SCAN passes.
        self._resp: RespClient | None = None
        self._appends = GroupCommit(self._append_batch)
        self.unlocks = UnlockListener(
            self.connect, f"{prefix}unlocked", f"debrief-unlocks-{self.node_id}"
        )

    # --- connection ----------------------------------------------------------------

    def connect(self, **options: Any) -> aioredis.Redis:
        """A new redis-py client on our Redis: scans, and the unlock listener's own."""
        settings: dict[str, Any] = {
            "socket_connect_timeout": 2.0,
            # A command Redis never answers is cut off by the pool's watchdog after
            # command_timeout (redis_pool.py): redis-py's socket_timeout would cost a
            # task and a timer per command. A caller that sets socket_timeout itself (the
            # unlock listener) keeps redis-py's way.
            "socket_timeout": None,
            "command_timeout": None if "socket_timeout" in options else self.command_timeout,
            "retry": Retry(NoBackoff(), 0),
            "max_connections": 64,
            "timeout": 5.0,  # waiting for a free pooled connection
            **no_maintenance_notifications(),
        }
        pool = WaitingConnectionPool.from_url(self.url, **{**settings, **options})
        return aioredis.Redis(connection_pool=pool)

    async def open(self) -> None:
        self._client = self.connect()
        self._resp = RespClient(self.url, command_timeout=self.command_timeout)

    async def close(self) -> None:
        await self._appends.drain()
        await self.unlocks.close()
        if self._resp is not None:
            resp, self._resp = self._resp, None
            await resp.close()
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    @property
    def client(self) -> aioredis.Redis:
        if self._client is None:
            raise StorageError("storage is not open")
        return self._client

    @property
    def resp(self) -> RespClient:
        if self._resp is None:
            raise StorageError("storage is not open")
        return self._resp

    async def call(self, operation: Awaitable[T], what: str) -> T:
        try:
            return await operation
        except (RedisError, RespError, OSError) as exc:
            raise StorageError(f"redis: {what} failed: {exc}") from exc

    @contextlib.asynccontextmanager
    async def lock(self, name: str) -> AsyncIterator[None]:
        """A lock shared by every process: SET NX PX with a random token.

        Tasks of this process queue on a local lock first, so contention inside one
        process costs no Redis round trips; across processes the unlock wakes us.
        """
        async with self._held(name, []):
            yield

    @contextlib.asynccontextmanager
    async def lock_reading(
        self, name: str, keys: list[tuple[str, str]]
    ) -> AsyncIterator[list[dict[str, Any] | None]]:
        record_keys = [self._record_key(kind, record_id) for kind, record_id in keys]
        async with self._held(name, record_keys) as rows:
            yield [None if raw is None else fast_json.loads(raw) for raw in rows]

    @contextlib.asynccontextmanager
    async def _held(self, name: str, record_keys: list[str]) -> AsyncIterator[list[Any]]:
        """Hold lock ``name``; yields the data of ``record_keys`` as read right after the
        SET NX that took the lock, in the same round trip.

        A failed attempt leaves a flag that makes the holder's unlock publish, and we
        wait for that (storage/redis_unlocks.py), with the backoff as the fallback."""
        async with self._local_lock(name):
            key = f"{self.prefix}lock:{name}"
            keys = [key, f"{self.prefix}lockwait:{name}"]
            token = secrets.token_hex(8)
            deadline = asyncio.get_running_loop().time() + LOCK_WAIT_S
            pause = 0.002

            async def attempt() -> tuple[Any, list[Any]]:
                # Commands of one connection run in order: the HGETs see what every
                # earlier holder wrote before it let go. EVAL: see _put_commands.
                taken, *rows = await self.resp.execute(
                    ("EVAL", ACQUIRE, 2, *keys, token, LOCK_TTL_MS),
                    *(("HGET", record_key, "data") for record_key in record_keys),
                )
                return taken, rows

            with self.unlocks.watch(name) as unlocked:
                while True:
                    unlocked.clear()  # from here on, an unlock wakes us
                    taken, rows = await self.call(attempt(), "lock")
                    if taken:
                        break
                    if asyncio.get_running_loop().time() > deadline:
                        raise StorageError(f"redis: lock {name} is busy")
                    self.unlocks.start()
                    # Listening, the wait is a fallback for a lost wake-up: no hurry.
                    wait = max(pause, HEARD_RETRY_S) if self.unlocks.subscribed.is_set() else pause
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await unlocked.wait()
                    pause = min(pause * 2, 0.05)
            lease = Lease(name, keys, token)
            held = _lease.set(lease)
            try:
                yield rows
            finally:
                _lease.reset(held)
                if not lease.released:  # else the last write let it go (one trip less)
                    with contextlib.suppress(StorageError):
                        await self.call(self.resp.execute(self._unlock_command(lease)), "unlock")

    def _unlock_args(self, lease: Lease) -> list[str]:
        return [lease.token, self.unlocks.channel, lease.name]

    def _unlock_command(self, lease: Lease) -> Command:
        return ("EVAL", UNLOCK, 2, *lease.keys, *self._unlock_args(lease))

    def release_lock_with_next_write(self) -> None:
        lease = _lease.get()
        if lease is not None:
            lease.ride = True

    @staticmethod
    def _take_ride() -> Lease | None:
        """The lock the next write should let go, once: see `release_lock_with_next_write`."""
        lease = _lease.get()
        if lease is None or not lease.ride or lease.sent:
            return None
        lease.sent = True  # one write carries it, the holder's last
        return lease

    async def ping(self) -> bool:
        try:
            return await self.resp.call("PING") == b"PONG"
        except (RespError, OSError, StorageError):
            return False

    def log_key(self, key: str) -> str:
        return f"{self.prefix}doc:{key}:log"

    def snap_key(self, key: str) -> str:
        return f"{self.prefix}doc:{key}:snap"

    # --- document logs -------------------------------------------------------------

    async def load_doc(self, key: str) -> StoredDoc:
        (data, upto_raw), entries = await self.call(
            self.resp.transaction(
                ("HMGET", self.snap_key(key), "data", "upto"),
                ("XRANGE", self.log_key(key), "-", "+"),
            ),
            f"load {key}",
        )
        upto = text(upto_raw) if upto_raw else "0-0"
        floor = parse_id(upto)
        updates: list[bytes] = []
        position = upto if upto_raw else "0"
        for raw_id, fields in entries:
            entry_id = text(raw_id)
            if parse_id(entry_id) <= floor:
                continue
            updates.append(bytes(pairs(fields)[b"u"]))
            position = entry_id
        return StoredDoc(bytes(data) if data is not None else None, updates, position)

    async def append_update(
        self, key: str, update: bytes, records: Sequence[RecordWrite] = ()
    ) -> str:
        return await self._appends.write((key, update, tuple(records), self._take_ride()))

    async def _append_batch(self, batch: list[RedisAppend]) -> list[str]:
        """One pipeline per batch: one round trip per loop turn, order kept per doc. A
        batch with records is one MULTI/EXEC: its updates and records land together.
        A lock whose holder's last write this is goes last in the same step."""
        with_records = any(records for _, _, records, _ in batch)
        leases = [lease for *_, lease in batch if lease is not None]

        commands: list[Command] = [
            ("XADD", self.log_key(key), "*", "u", update, "n", self.node_id)
            for key, update, _, _ in batch
        ]
        for _, _, records, _ in batch:
            commands += self._put_commands(records)
        commands += [self._unlock_command(lease) for lease in leases]
        send = self.resp.transaction if with_records else self.resp.execute
        replies = await self.call(send(*commands), "append")
        positions = [text(entry_id) for entry_id in replies[: len(batch)]]
        for lease in leases:
            lease.released = True
        return positions

    async def compact(self, key: str, snapshot: bytes, upto: str) -> bool:
        ms, seq = parse_id(upto)
        keep_from = min((ms, seq + 1), (max(ms - TRIM_LAG_MS, 0), 0))
        done = await self.call(
            self.resp.call(
                "EVAL",
                COMPACT,
                2,
                self.snap_key(key),
                self.log_key(key),
                snapshot,
                format_id(ms, seq),
                format_id(*keep_from),
            ),
            f"compact {key}",
        )
        return bool(done)

    async def delete_doc(self, key: str) -> None:
        await self.call(self.resp.call("DEL", self.log_key(key), self.snap_key(key)), "delete")

    # --- records -------------------------------------------------------------------

    def _record_key(self, kind: str, record_id: str) -> str:
        return f"{self.prefix}rec:{kind}:{record_id}"

    def _index_prefix(self, kind: str) -> str:
        return f"{self.prefix}idx:{kind}:"

    async def put_record(
        self, kind: str, record_id: str, data: dict[str, Any], review_id: str | None = None
    ) -> None:
        record: RecordWrite = (kind, record_id, data, review_id)
        await self.call(self.resp.execute(*self._put_commands([record])), f"put {kind}")

    async def put_records(self, records: list[RecordWrite]) -> None:
        lease = self._take_ride()  # the holder's last write: its unlock rides along

        commands = self._put_commands(records)
        if lease is not None:
            commands.append(self._unlock_command(lease))
        await self.call(self.resp.transaction(*commands), "put records")  # MULTI/EXEC
        if lease is not None:
            lease.released = True

    def _put_commands(self, records: Iterable[RecordWrite]) -> list[Command]:
        """A write of each record. EVAL, not EVALSHA: a NOSCRIPT (Redis restarted) must
        not fail half of a MULTI/EXEC, and knowing the script is there costs a trip."""
        return [
            (
                "EVAL",
                PUT_RECORD,
                2,
                self._record_key(kind, record_id),
                f"{self.prefix}seq",
                fast_json.dumps(data),
                review_id or "",
                record_id,
                self._index_prefix(kind),
            )
            for kind, record_id, data, review_id in records
        ]

    async def get_record(self, kind: str, record_id: str) -> dict[str, Any] | None:
        raw = await self.call(
            self.resp.call("HGET", self._record_key(kind, record_id), "data"), f"get {kind}"
        )
        if raw is None:
            return None
        found: dict[str, Any] = fast_json.loads(raw)
        return found

    async def get_records(self, keys: list[tuple[str, str]]) -> list[dict[str, Any] | None]:
        reads = [("HGET", self._record_key(kind, record_id), "data") for kind, record_id in keys]
        rows = await self.call(self.resp.execute(*reads), "get records")  # one round trip
        return [None if raw is None else fast_json.loads(raw) for raw in rows]

    async def delete_record(self, kind: str, record_id: str) -> bool:
        done = await self.call(
            self.resp.call(
                "EVAL",
                DELETE_RECORD,
                1,
                self._record_key(kind, record_id),
                record_id,
                self._index_prefix(kind),
            ),
            f"delete {kind}",
        )
        return bool(done)

    async def list_records(self, kind: str, review_id: str) -> list[dict[str, Any]]:
        rows = await self.call(
            self.resp.call(
                "EVAL",
                LIST_RECORDS,
                1,
                self._index_prefix(kind) + review_id,
                self._record_key(kind, ""),
            ),
            f"list {kind}",
        )
        return [fast_json.loads(raw) for raw in rows if raw]

    # --- ballots -------------------------------------------------------------------

    def _ballot_keys(self, ballot: str, voter: str) -> list[str]:
        return [f"{self.prefix}vote:{ballot}:{voter}", f"{self.prefix}tally:{ballot}"]

    async def cast_vote(self, ballot: str, voter: str, target: str, limit: int) -> VoteOutcome:
        return await self._vote(CAST_VOTE, ballot, voter, [target, str(limit)], "cast vote")

    async def retract_vote(self, ballot: str, voter: str, target: str) -> VoteOutcome:
        return await self._vote(RETRACT_VOTE, ballot, voter, [target], "retract vote")

    async def _vote(
        self, script: str, ballot: str, voter: str, args: list[str], what: str
    ) -> VoteOutcome:
        """The vote's script and a read of the voter's votes in one MULTI/EXEC, with the
        review's unlock when this is the holder's last write: one round trip for all."""
        keys = self._ballot_keys(ballot, voter)
        lease = self._take_ride()

        # EVAL, not EVALSHA: see _put_commands.
        commands: list[Command] = [("EVAL", script, 2, *keys, *args), ("HGETALL", keys[0])]
        if lease is not None:
            commands.append(self._unlock_command(lease))
        done, mine, *_ = await self.call(self.resp.transaction(*commands), what)
        if lease is not None:
            lease.released = True
        return VoteOutcome(bool(done), vote_counts(pairs(mine)))

    async def tally(self, ballot: str) -> dict[str, int]:
        raw = await self.call(self.resp.call("HGETALL", f"{self.prefix}tally:{ballot}"), "tally")
        return vote_counts(pairs(raw))

    async def votes_of(self, ballot: str, voter: str) -> dict[str, int]:
        key = self._ballot_keys(ballot, voter)[0]
        raw = await self.call(self.resp.call("HGETALL", key), "votes")
        return vote_counts(pairs(raw))

    # --- sorted indexes ------------------------------------------------------------

    def _index_keys(self, index: str) -> tuple[str, str]:
        return f"{self.prefix}ix:z:{index}", f"{self.prefix}ix:d:{index}"

    async def index_put(self, index: str, member: str, score: float, data: dict[str, Any]) -> None:
        scores, summaries = self._index_keys(index)

        await self.call(
            self.resp.transaction(
                ("ZADD", scores, repr(float(score)), member),
                ("HSET", summaries, member, fast_json.dumps(data)),
            ),
            "index put",
        )

    async def index_remove(self, index: str, member: str) -> bool:
        scores, summaries = self._index_keys(index)

        removed, _ = await self.call(
            self.resp.transaction(("ZREM", scores, member), ("HDEL", summaries, member)),
            "index remove",
        )
        return bool(removed)

    async def index_get(self, index: str, member: str) -> IndexEntry | None:
        scores, summaries = self._index_keys(index)

        score, data = await self.call(
            self.resp.transaction(("ZSCORE", scores, member), ("HGET", summaries, member)),
            "index get",
        )
        if score is None:
            return None
        return IndexEntry(member, float(score), fast_json.loads(data) if data else {})

    async def index_get_many(self, index: str, members: list[str]) -> list[IndexEntry | None]:
        if not members:
            return []
        scores, summaries = self._index_keys(index)

        found, data = await self.call(
            self.resp.transaction(("ZMSCORE", scores, *members), ("HMGET", summaries, *members)),
            "index get many",
        )
        return [
            None
            if score is None
            else IndexEntry(member, float(score), fast_json.loads(raw or "{}"))
            for member, score, raw in zip(members, found, data, strict=True)
        ]

    async def index_range(
        self,
        index: str,
        *,
        low: float = float("-inf"),
        high: float = float("inf"),
        offset: int = 0,
        limit: int | None = None,
        reverse: bool = False,
    ) -> list[IndexEntry]:
        if limit is not None and limit <= 0:
            return []
        args: list[str | int] = [
            score_arg(low),
            score_arg(high),
            max(offset, 0),
            -1 if limit is None else limit,
            "1" if reverse else "0",
        ]
        flat = await self.call(
            self.resp.call("EVAL", INDEX_RANGE, 2, *self._index_keys(index), *args),
            "index range",
        )
        return [
            IndexEntry(text(flat[i]), float(flat[i + 1]), fast_json.loads(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]

    async def index_count(
        self, index: str, *, low: float = float("-inf"), high: float = float("inf")
    ) -> int:
        scores, _ = self._index_keys(index)
        count = await self.call(
            self.resp.call("ZCOUNT", scores, score_arg(low), score_arg(high)), "index count"
        )
        return int(count)

    async def index_drop(self, index: str) -> None:
        await self.call(self.resp.call("DEL", *self._index_keys(index)), "index drop")

    # --- whole-store passes --------------------------------------------------------

    async def _scan(self, pattern: str, count: int = PAGE_KEYS) -> AsyncIterator[list[Any]]:
        """Key names matching ``pattern``, a page at a time (SCAN may repeat a key)."""
        cursor: Any = 0
        while True:
            cursor, names = await self.call(
                self.client.scan(cursor, match=pattern, count=count), "scan"
            )
            if names:
                yield list(names)
            if int(cursor) == 0:
                return

    async def all_records(self, kind: str) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        start = len(self._record_key(kind, ""))
        seen: set[str] = set()  # SCAN may return a key twice; ids are small
        async for names in self._scan(glob_escape(self._record_key(kind, "")) + "*"):
            fresh = [name for name in names if text(name)[start:] not in seen]
            if not fresh:
                continue

            async def fetch(fresh: list[Any] = fresh) -> list[Any]:
                async with self.client.pipeline(transaction=False) as pipe:
                    for name in fresh:
                        pipe.hget(name, "data")
                    found: list[Any] = await pipe.execute()
                return found

            for name, raw in zip(fresh, await self.call(fetch(), f"read {kind}"), strict=True):
                record_id = text(name)[start:]
                seen.add(record_id)
                if raw is not None:  # deleted since the scan saw it
                    yield record_id, fast_json.loads(raw)

    async def purge_review(self, review_id: str) -> None:
        # Records tied to the review are listed in "idx:<kind>:<review>" (one per kind);
        # docs and ballots are named "<review>/...". SCAN finds both; an id that is a
        # prefix of another ("r_1" / "r_10") is kept apart by the exact checks below.
        groups = f"{self.prefix}idx:"
        wanted = glob_escape(review_id)
        async for names in self._scan(f"{glob_escape(groups)}*:{wanted}", PURGE_SCAN):
            for raw in names:
                name = text(raw)
                kind, _, group = name[len(groups) :].partition(":")
                if group != review_id:
                    continue
                ids = await self.call(self.client.zrange(name, 0, -1), "purge")
                for start in range(0, len(ids), PAGE_KEYS):
                    keys = [self._record_key(kind, text(i)) for i in ids[start : start + PAGE_KEYS]]
                    await self.call(self.client.delete(*keys), "purge")
                await self.call(self.client.delete(name), "purge")
        for family in ("doc:", "vote:", "tally:"):
            pattern = f"{glob_escape(self.prefix + family)}{wanted}/*"
            async for names in self._scan(pattern, PURGE_SCAN):
                await self.call(self.client.delete(*names), "purge")

    # --- tests ---------------------------------------------------------------------

    async def drop_everything(self) -> None:
        """Delete every key under the prefix (tests; works on a closed store too)."""
        client = self._client or self.connect()
        try:
            batch: list[Any] = []
            async for name in client.scan_iter(match=self.prefix + "*", count=500):
                batch.append(name)
                if len(batch) >= 500:
                    await client.unlink(*batch)
                    batch = []
            if batch:
                await client.unlink(*batch)
        finally:
            if client is not self._client:
                await client.aclose()
