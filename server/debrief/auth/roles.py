"""Roles and the per-doc write permission that enforces them (see DESIGN.md)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    MODERATOR = "moderator"
    SCRIBE = "scribe"
    PARTICIPANT = "participant"
    OBSERVER = "observer"


class DocName(StrEnum):
    ROOM = "room"
    TIMELINE = "timeline"
    RECAP = "recap"


# ``room`` is written only by the server (through the HTTP commands), so no client
# role may write it over the websocket.
_WRITERS: dict[DocName, frozenset[Role]] = {
    DocName.ROOM: frozenset(),
    DocName.TIMELINE: frozenset({Role.PARTICIPANT, Role.SCRIBE, Role.MODERATOR}),
    DocName.RECAP: frozenset({Role.SCRIBE, Role.MODERATOR}),
}


def can_write(role: Role, doc: DocName) -> bool:
    return role in _WRITERS[doc]


def doc_key(review_id: str, doc: DocName | str) -> str:
    """The storage key of a review's doc."""
    return f"{review_id}/{doc}"
