"""The parking lot: topics raised in the meeting that matter but are off its scope. Kept
in the room doc (written by the server), listed in the recap so they are not lost."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from . import docdata as dd

PARKING_LOT = "parking_lot"
MAX_PARKED = 100
MAX_PARKED_TEXT = 300


def read_parked(doc: Doc) -> list[dict[str, Any]]:
    """The parked topics, oldest first (any stored content reads: docdata)."""
    topics = [
        {
            "id": key,
            "text": dd.text(raw.get("text")),
            "created_ms": dd.number(raw.get("created_ms")) or 0,
        }
        for key, raw in dd.entries(doc.get(PARKING_LOT, type=Map))
    ]
    return sorted(topics, key=lambda t: (t["created_ms"], t["id"]))
