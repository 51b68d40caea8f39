"""The outbox: deliveries kept in storage, claimed under a lease, marked sent or retried.

Exactly once across processes (PLAN13.md): every state change of a delivery happens under
``storage.lock("delivery:<id>")``. A process claims a due delivery by moving it from
``queued`` to ``sending`` with a lease (its node and an end time); only the holder of the
lease may mark it sent or failed. A process that dies mid-send leaves its lease to expire,
and then any process may claim it again. The delivery stays in the due index while it is
being sent, scored by the lease's end, so an expired lease is found like a due delivery.

The one window left: a process that dies after the SMTP server or receiver accepted a
delivery but before it wrote "sent" has it sent again by another. Both sends carry the
same Message-ID / X-Debrief-Delivery, so a receiver can drop the second.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from debrief.delivery import keys
from debrief.storage import Storage

MAX_ATTEMPTS_KEPT = 50  # a delivery's attempt history (replays add to it)
DETAIL_CHARS = 500
MAX_TAKEOVERS = 5  # leases run out this often (senders died): the delivery is dead
LOG_ATTEMPTS = 10  # the latest attempts the log shows (GET .../deliveries/{id}: all)


class OutboxError(Exception):
    """A delivery that cannot be queued or replayed (the message says why)."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error = error


def now_ms() -> int:
    return int(time.time() * 1000)


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """What the team's delivery log shows of a delivery (kept in the log index)."""
    attempts = record.get("attempts") or []
    last = attempts[-1] if attempts else None
    return {
        "id": record["id"],
        "event": record.get("event", ""),
        "channel": record.get("channel", ""),
        "to": list(record.get("to") or [])[:5],
        "subject": str(record.get("subject") or "")[:200],
        "state": record.get("state", keys.QUEUED),
        "created_ms": record.get("created_ms", 0),
        "next_at_ms": record.get("next_at_ms"),
        "attempts": attempts[-LOG_ATTEMPTS:],
        "attempt_count": len(attempts),
        "last": last,
    }


async def _save(storage: Storage, record: dict[str, Any]) -> None:
    """Write a delivery and keep both indexes in step with its state (caller holds the lock)."""
    delivery_id, team_id = record["id"], record["team_id"]
    state = record["state"]
    if state in keys.WAITING:
        await storage.index_put(keys.DUE_INDEX, delivery_id, float(record["next_at_ms"]), {})
    elif state == keys.SENDING:
        until = float(record["lease"]["until_ms"])
        await storage.index_put(keys.DUE_INDEX, delivery_id, until, {})
    else:
        await storage.index_remove(keys.DUE_INDEX, delivery_id)
    await storage.index_put(
        keys.log_index(team_id), delivery_id, float(record["created_ms"]), summary(record)
    )
    await storage.put_record(keys.DELIVERY, delivery_id, record, team_id)


def _check(delivery: dict[str, Any]) -> None:
    for name in ("team_id", "event", "key", "channel"):
        if not isinstance(delivery.get(name), str) or not delivery[name]:
            raise ValueError(f"a delivery needs a non-empty {name!r}")
    channel = delivery["channel"]
    if channel == keys.EMAIL:
        to = delivery.get("to")
        if not isinstance(to, list) or not to or not all(isinstance(a, str) for a in to):
            raise ValueError("an email delivery needs 'to': a list of addresses")
    elif keys.webhook_id_of(channel) is None:
        raise ValueError(f"unknown channel {channel!r}")


async def enqueue(storage: Storage, delivery: dict[str, Any]) -> bool:
    """Queue a delivery; False when the same one (same id) was queued before.

    The id is ``keys.delivery_id(key, channel, to)`` unless given, so every process (and
    every scheduler tick) may enqueue the same reminder: only the first one counts.
    Optional ``next_at_ms`` delays it."""
    _check(delivery)
    to = list(delivery.get("to") or [])
    delivery_id = delivery.get("id") or keys.delivery_id(delivery["key"], delivery["channel"], to)
    created = now_ms()
    record: dict[str, Any] = {
        "subject": "",
        "text": "",
        "html": None,
        "payload": None,
        "ics": None,
        "unsubscribe_url": None,
        **delivery,
        "id": delivery_id,
        "to": to,
        "created_ms": int(delivery.get("created_ms") or created),
        "state": keys.QUEUED,
        "attempts": [],
        "tries": 0,
        "replays": 0,
        "next_at_ms": int(delivery.get("next_at_ms") or created),
        "lease": None,
    }
    async with storage.lock(keys.lock_name(delivery_id)):
        if await storage.get_record(keys.DELIVERY, delivery_id) is not None:
            return False
        # The record is written last: an index entry without it (a crash in between) is
        # dropped by the worker, and the next enqueue of the same reminder writes both.
        await _save(storage, record)
    return True


async def get(storage: Storage, delivery_id: str) -> dict[str, Any] | None:
    return await storage.get_record(keys.DELIVERY, delivery_id)


async def replay(storage: Storage, delivery_id: str) -> dict[str, Any]:
    """Queue a sent, failed or dead delivery again, due now, with a fresh retry count.

    A replay is a new message on purpose: it carries ``<id>-r<n>`` as its Message-ID /
    X-Debrief-Delivery, so a receiver that drops duplicates does not drop it."""
    async with storage.lock(keys.lock_name(delivery_id)):
        record = await storage.get_record(keys.DELIVERY, delivery_id)
        if record is None:
            raise OutboxError(404, "unknown-delivery", "there is no delivery with this id")
        if record["state"] in (keys.QUEUED, keys.SENDING):
            # FAILED (a retry is waiting) may be replayed: it goes out now instead.
            raise OutboxError(
                409, "delivery-pending", f"this delivery is {record['state']}; wait for it"
            )
        record.update(
            state=keys.QUEUED,
            tries=0,
            replays=int(record.get("replays", 0)) + 1,
            takeovers=0,
            next_at_ms=now_ms(),
            lease=None,
        )
        await _save(storage, record)
    return record


def send_id(record: dict[str, Any]) -> str:
    """The id a receiver sees (Message-ID, X-Debrief-Delivery): new for each replay."""
    replays = int(record.get("replays", 0))
    return record["id"] if replays == 0 else f"{record['id']}-r{replays}"


async def due(storage: Storage, limit: int) -> list[str]:
    """Ids of deliveries due now (queued and due, or a lease that has expired)."""
    entries = await storage.index_range(keys.DUE_INDEX, high=float(now_ms()), limit=limit)
    return [entry.member for entry in entries]


async def claim(
    storage: Storage, delivery_id: str, node: str, lease_ms: int
) -> dict[str, Any] | None:
    """Take a due delivery for sending: the record with its new lease, or None when it is
    not due any more (sent, claimed by another process, or gone)."""
    async with storage.lock(keys.lock_name(delivery_id)):
        record = await storage.get_record(keys.DELIVERY, delivery_id)
        if record is None:
            await storage.index_remove(keys.DUE_INDEX, delivery_id)
            return None
        now = now_ms()
        state, lease = record["state"], record.get("lease") or {}
        if state in keys.WAITING and int(record["next_at_ms"]) <= now:
            pass
        elif state == keys.SENDING and int(lease.get("until_ms", 0)) <= now:
            record["taken_over_from"] = lease.get("node")  # its holder died mid-send
            record["takeovers"] = int(record.get("takeovers", 0)) + 1
            if record["takeovers"] > MAX_TAKEOVERS:
                # A message that takes its sender down each time must not take them all.
                detail = f"every process that sent it stopped ({MAX_TAKEOVERS} times); given up"
                attempt = {"at_ms": now, "ok": False, "detail": detail, "node": node}
                record["attempts"] = [*record.get("attempts", []), attempt][-MAX_ATTEMPTS_KEPT:]
                record.update(state=keys.DEAD, lease=None)
                await _save(storage, record)
                return None
        else:
            if state not in (*keys.WAITING, keys.SENDING):
                await storage.index_remove(keys.DUE_INDEX, delivery_id)
            return None
        record["state"] = keys.SENDING
        record["lease"] = {"node": node, "token": secrets.token_hex(8), "until_ms": now + lease_ms}
        await _save(storage, record)
    return record


async def finish(
    storage: Storage,
    claimed: dict[str, Any],
    ok: bool,
    detail: str,
    retry_s: list[float],
    *,
    permanent: bool = False,
) -> dict[str, Any] | None:
    """Record an attempt of a claimed delivery: sent, queued for a retry, or dead (retries
    used up, or ``permanent``). None when the lease was lost meanwhile (the attempt took
    longer than the lease and another process claimed it): then nothing is written."""
    delivery_id = claimed["id"]
    token = claimed["lease"]["token"]
    async with storage.lock(keys.lock_name(delivery_id)):
        record = await storage.get_record(keys.DELIVERY, delivery_id)
        if record is None or (record.get("lease") or {}).get("token") != token:
            return None
        now = now_ms()
        attempt = {"at_ms": now, "ok": ok, "detail": detail[:DETAIL_CHARS],
                   "node": claimed["lease"]["node"]}  # fmt: skip
        record["attempts"] = [*record.get("attempts", []), attempt][-MAX_ATTEMPTS_KEPT:]
        record["lease"] = None
        if ok:
            record["state"] = keys.SENT
            record["sent_ms"] = now
        else:
            tries = int(record.get("tries", 0)) + 1
            record["tries"] = tries
            if permanent or tries > len(retry_s):
                record["state"] = keys.DEAD
            else:
                record["state"] = keys.FAILED
                record["next_at_ms"] = now + int(retry_s[tries - 1] * 1000)
        await _save(storage, record)
    return record


async def log(
    storage: Storage, team_id: str, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of a team's delivery log, newest first, and how many there are in all."""
    index = keys.log_index(team_id)
    entries = await storage.index_range(index, offset=offset, limit=limit, reverse=True)
    return [entry.data for entry in entries], await storage.index_count(index)
