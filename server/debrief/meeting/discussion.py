"""The discuss step: the voted themes of a section, walked in order of votes, each with
its own time box on the shared timer; attendees comment on the theme at hand.

Pure: functions from plain room-doc data to the next discussion state. Comments are
kept as records (kind "theme-comment", their authors known only to the server) and
shown through meeting/held.py, like notes after a reveal: nothing on screen says who
commented, not even by its timing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import docdata as dd
from .errors import Conflict

COMMENT = "theme-comment"
MAX_COMMENT = 500
MAX_COMMENTS_PER_REVIEW = 1_000
DEFAULT_MINUTES = 5


def idle() -> dict[str, Any]:
    return {"active": False, "section": "", "order": [], "index": 0, "minutes": DEFAULT_MINUTES}


def state_of(meeting: Mapping[str, Any]) -> dict[str, Any]:
    """The discussion as stored (any stored shape reads; unknown ones as idle)."""
    found = dd.record(meeting.get("discussion")) or {}
    return {
        "active": found.get("active") is True,
        "section": dd.text(found.get("section")),
        "order": dd.texts(found.get("order"), 500),
        "index": dd.count(found.get("index")),
        "minutes": dd.count(found.get("minutes")) or DEFAULT_MINUTES,
    }


def start(
    themes: Mapping[str, Mapping[str, Any]], votes: Mapping[str, Any], section: str, minutes: int
) -> dict[str, Any]:
    """Walk the themes of ``section`` with votes, most votes first (then by title)."""
    ranked = [
        (dd.count(votes.get(theme_id)), dd.text(theme.get("title")).lower(), theme_id)
        for theme_id, theme in themes.items()
        if (dd.text(theme.get("section")) or "contributing-factor") == section
    ]
    voted = [r for r in ranked if r[0] > 0] or ranked  # no votes at all: every theme
    if not voted:
        raise Conflict("this section has no themes to discuss yet", error="nothing-to-discuss")
    order = [theme_id for _, _, theme_id in sorted(voted, key=lambda r: (-r[0], r[1]))]
    return {"active": True, "section": section, "order": order, "index": 0, "minutes": minutes}


def advance(state: Mapping[str, Any]) -> dict[str, Any]:
    """On to the next theme; past the last one the discussion ends."""
    if not state["active"]:
        raise Conflict("no discussion is running", error="no-discussion")
    index = state["index"] + 1
    if index >= len(state["order"]):
        return {**idle(), "section": state["section"], "minutes": state["minutes"]}
    return {**state, "index": index}


def current_theme(state: Mapping[str, Any]) -> str | None:
    order = state["order"]
    return order[state["index"]] if state["active"] and state["index"] < len(order) else None


def public_comment(record: Mapping[str, Any]) -> dict[str, Any]:
    """What everyone sees of a comment: its text and theme, never its author."""
    return {"id": record["id"], "theme_id": record["theme_id"], "text": record["text"]}
