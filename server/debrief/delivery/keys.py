"""Names shared by every part of delivery: record kinds, index names, events, states.

One place, so the outbox, the worker, the scheduler, the event sources and the HTTP
routes agree on where deliveries and channel settings are kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# Record kinds (the storage's grouping column holds the team id for both).
CHANNELS = "team-channels"  # id: team id -> {email: {...}, webhooks: [...]}
DELIVERY = "delivery"  # id: delivery id; grouped by team id

# Sorted indexes.
DUE_INDEX = "delivery/due"  # queued deliveries; score: next_at_ms


def log_index(team_id: str) -> str:
    """A team's delivery log; score: created_ms (read newest first)."""
    return f"team/{team_id}/deliveries"


# Events (names used in settings, prefs, webhooks' "events" filters and payloads).
EVENTS = (
    "review-scheduled",
    "review-starting",
    "recap-published",
    "action-assigned",
    "action-due-soon",
    "action-overdue",
    "action-done",
    "weekly-digest",
    "review-nudge",
)
ALL_EVENTS = "*"  # a webhook subscribed to every event

# Delivery states. queued: waiting for next_at_ms (new or replayed); sending: claimed by
# a process under a lease; failed: the last attempt failed, a retry waits for next_at_ms;
# sent: the SMTP server or receiver accepted it; dead: retries used up (or nothing to send
# to any more). The admin may replay a sent, failed or dead one.
QUEUED = "queued"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"
DEAD = "dead"
WAITING = (QUEUED, FAILED)  # in the due index, scored by next_at_ms
STATES = (QUEUED, SENDING, SENT, FAILED, DEAD)

# Channels.
EMAIL = "email"
WEBHOOK_PREFIX = "webhook:"
WEBHOOK_KINDS = ("slack", "mattermost", "json")

# Retry delays after the 1st, 2nd, ... failed attempt; after the last one: dead.
RETRY_DELAYS_S = (60, 300, 1800, 7200, 43200)


def webhook_channel(webhook_id: str) -> str:
    """The ``channel`` value of a delivery to one webhook."""
    return f"{WEBHOOK_PREFIX}{webhook_id}"


def webhook_id_of(channel: str) -> str | None:
    """The webhook id in a ``webhook:<id>`` channel, else None."""
    return channel[len(WEBHOOK_PREFIX) :] if channel.startswith(WEBHOOK_PREFIX) else None


def delivery_id(key: str, channel: str, to: Iterable[str] = ()) -> str:
    """A delivery's deterministic id: the same reminder to the same place is one delivery,
    however many processes (or scheduler ticks) enqueue it."""
    recipients = ",".join(sorted(address.strip().lower() for address in to))
    digest = hashlib.sha256(f"{key}\n{channel}\n{recipients}".encode()).hexdigest()
    return digest[:24]


def lock_name(delivery: str) -> str:
    """The storage lock a claim or a state change of a delivery is made under."""
    return f"delivery:{delivery}"
