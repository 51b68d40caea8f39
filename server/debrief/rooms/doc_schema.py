"""The schema of the client-written docs (``timeline``, ``recap``): their roots, the
fields of their entries with one check each, their limits and who may write them.

What docs/shared-docs.md documents, as data; rooms/guard.py applies it to updates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from debrief.meeting.texts import ACTION_KIND_LABELS, EVENT_SOURCE_LABELS, MARKER_LABELS

TIMELINE, RECAP = "timeline", "recap"
MODERATOR, SCRIBE, PARTICIPANT = "moderator", "scribe", "participant"

# --- limits (documented in docs/shared-docs.md, "What the server refuses") ----------
MAX_EVENTS = 2_000  # events in `timeline.events`
MAX_EVENT_ID = 100  # chars of an event id (the map key)
MAX_EVENT_TIME = 40  # chars of `time`
MAX_EVENT_TEXT = 2_000  # chars of `text`
MAX_LINK = 2_048  # chars of `link`
MAX_MARKERS = 10  # entries of `markers`
MAX_BY = 100  # chars of `by` (a participant id)
MAX_ACTIONS = 500  # actions in `recap.actions`
MAX_ACTION_ID = 100  # chars of an action id (the map key)
MAX_ACTION_WHAT = 500
MAX_ACTION_OWNER = 200
MAX_ACTION_OWNER_ID = 100  # a person id of the team's directory ("pe_<hex>")
MAX_ACTION_VERIFY = 500
MAX_RECAP_TEXT = 100_000  # chars of `recap.text` after the change
MAX_FOLLOWUPS = 20_000  # chars of `recap.followups` after the change

EVENT_SOURCES = frozenset(EVENT_SOURCE_LABELS)
RECAP_CHOICES = frozenset({"keep", "drop"})
MARKERS = frozenset(MARKER_LABELS)
ACTION_KINDS = frozenset(ACTION_KIND_LABELS)

# What the web app writes (Date.toISOString without ".000"), what the importers write
# (seconds, milliseconds when not zero), and the 6-digit years toISOString gives
# beyond 9999. Linear: no nested quantifiers, and the input is at most 40 chars.
_TIME_RE = re.compile(
    r"(?:[+-]\d{6}|\d{4})-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r"T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,3})?)?Z"
)
_DATE_RE = re.compile(r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


# --- field checks: value -> problem text, or None when fine ------------------------

Check = Callable[[Any], str | None]


def _text(limit: int) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be text"
        if len(value) > limit:
            return f"is longer than {limit} characters"
        return None

    return check


def _choice(allowed: frozenset[str]) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or (value and value not in allowed):
            return "is not one of the documented values"
        return None

    return check


def _pattern(regex: re.Pattern[str], limit: int, shape: str) -> Check:
    def check(value: Any) -> str | None:
        if not isinstance(value, str) or len(value) > limit:
            return f"must be {shape} or empty"
        if value and regex.fullmatch(value) is None:
            return f"must be {shape} or empty"
        return None

    return check


def _number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    return None


def _link(value: Any) -> str | None:
    problem = "must be an http(s) link or empty"
    if not isinstance(value, str) or len(value) > MAX_LINK:
        return f"{problem} (at most {MAX_LINK} characters)"
    if not value:
        return None
    if _CONTROL_RE.search(value) or value != value.strip():
        return problem
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return problem
    if parts.scheme.lower() not in ("http", "https") or not host:
        return problem
    return None


def _markers(value: Any) -> str | None:
    if not isinstance(value, list) or len(value) > MAX_MARKERS:
        return f"must be a list of at most {MAX_MARKERS} markers"
    if not all(isinstance(m, str) and m in MARKERS for m in value):
        return "must hold only documented markers"
    if len(set(value)) != len(value):
        return "must not repeat a marker"
    return None


@dataclass(frozen=True)
class Collection:
    """A root Map of id -> Y.Map with documented keys (timeline events, actions)."""

    root: str
    noun: str  # "event" | "action": audit targets and reasons
    max_items: int
    max_key: int
    fields: dict[str, Check]
    owned: bool  # entries carry `by`: participants change only their own
    # fields only the moderator and scribe may set, even on an entry of someone else's
    curated: frozenset[str] = frozenset()


EVENTS = Collection(
    root="events",
    noun="event",
    max_items=MAX_EVENTS,
    max_key=MAX_EVENT_ID,
    fields={
        "id": _text(MAX_EVENT_ID),
        "time": _pattern(_TIME_RE, MAX_EVENT_TIME, "an ISO 8601 UTC time ending in Z"),
        "text": _text(MAX_EVENT_TEXT),
        "source": _choice(EVENT_SOURCES),
        "link": _link,
        "markers": _markers,
        "created_ms": _number,
        "by": _text(MAX_BY),
        # the scribe's choice for the recap's timeline: "" (marked events go in),
        # "keep" (in, marked or not) or "drop" (left out)
        "recap": _choice(RECAP_CHOICES),
    },
    owned=True,
    curated=frozenset({"recap"}),
)
ACTIONS = Collection(
    root="actions",
    noun="action",
    max_items=MAX_ACTIONS,
    max_key=MAX_ACTION_ID,
    fields={
        "id": _text(MAX_ACTION_ID),
        "what": _text(MAX_ACTION_WHAT),
        "owner": _text(MAX_ACTION_OWNER),
        "owner_id": _text(MAX_ACTION_OWNER_ID),
        "due": _pattern(_DATE_RE, 10, "a date like 2025-03-31"),
        "verify": _text(MAX_ACTION_VERIFY),
        "kind": _choice(ACTION_KINDS),
        "created_ms": _number,
    },
    owned=False,
)


@dataclass(frozen=True)
class TextRoot:
    root: str
    target: str  # audit target
    limit: int


RECAP_TEXT = TextRoot("text", "recap text", MAX_RECAP_TEXT)
FOLLOWUPS = TextRoot("followups", "follow-ups", MAX_FOLLOWUPS)

SCHEMA: dict[str, tuple[Collection | TextRoot, ...]] = {
    TIMELINE: (EVENTS,),
    RECAP: (RECAP_TEXT, FOLLOWUPS, ACTIONS),
}
WRITERS = {
    TIMELINE: frozenset({MODERATOR, SCRIBE, PARTICIPANT}),
    RECAP: frozenset({MODERATOR, SCRIBE}),
}
ANY_ENTRY = frozenset({MODERATOR, SCRIBE})  # may change entries that are not theirs


def known_roots(doc_name: str) -> frozenset[str]:
    return frozenset(part.root for part in SCHEMA.get(doc_name, ()))
