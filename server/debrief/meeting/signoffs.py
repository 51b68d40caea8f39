"""Sign-off is for a wording.

Each sign-off records the fingerprint of the recap as it read when it was given (the
scribe's text, the follow-ups and the action items). What the room shows is how many
signed the wording as it reads now, and who signed which: a change to the recap after
people signed puts their sign-offs on "an earlier wording" and asks them again.

The rooms tell us when a recap doc changes (RoomManager.on_change); a short delay lets
a burst of typing cost one refresh.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from pycrdt import Doc, Map, Text

from debrief.auth.roles import DocName

from . import docdata as dd
from . import review as rv
from .service import SIGNOFF, MeetingService, meeting_state

log = logging.getLogger(__name__)

REFRESH_DELAY_S = 0.3
WORDED_ACTION_FIELDS = ("id", "what", "owner", "due", "verify", "kind")


def wording_fingerprint(doc: Doc) -> str:
    """A short hash of what people sign in the `recap` doc."""
    entries = dd.entries(doc.get("actions", type=Map))
    actions = sorted(
        ({k: a[k] for k in WORDED_ACTION_FIELDS} for a in (dd.action(k, v) for k, v in entries)),
        key=lambda a: str(a["id"]),
    )
    wording = {
        "text": str(doc.get("text", type=Text)),
        "followups": str(doc.get("followups", type=Text)),
        "actions": actions,
    }
    encoded = json.dumps(wording, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def signers(records: Iterable[Mapping[str, Any]], current: str) -> list[dict[str, Any]]:
    """Who signed, and whether what they signed is the wording as it reads now;
    current ones first, then by name."""
    found = [
        {
            "name": dd.text(r.get("name")) or "Unnamed attendee",
            "current": r.get("wording") == current,
        }
        for r in records
    ]
    return sorted(found, key=lambda s: (not s["current"], s["name"].lower()))


async def refresh(meeting: MeetingService, review_id: str) -> int:
    """Show in the room doc who signed which wording; returns the count on the current one.
    Nothing is written when nothing changed (the usual case while the scribe types)."""
    records = await meeting.storage.list_records(SIGNOFF, review_id)
    current = await meeting.read(review_id, DocName.RECAP, wording_fingerprint)
    shown = signers(records, current)
    count = sum(1 for s in shown if s["current"])

    def change(doc: Doc) -> None:
        state = meeting_state(doc)
        if state.get("signoffs") == count and state.get("signers") == shown:
            return
        meeting = doc.get("meeting", type=Map)
        meeting["signoffs"] = count
        meeting["signers"] = shown

    if records or (await meeting.read(review_id, DocName.ROOM, meeting_state)).get("signers"):
        await meeting.edit(review_id, DocName.ROOM, change)
    return count


class SignoffWatch:
    """Refreshes a review's sign-offs a moment after its recap doc changed."""

    def __init__(self, meeting: MeetingService) -> None:
        self.meeting = meeting
        self._pending: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def doc_changed(self, key: str) -> None:
        review_id, _, doc = key.rpartition("/")
        if doc != DocName.RECAP or review_id in self._pending:
            return
        self._pending.add(review_id)
        asyncio.get_running_loop().call_later(REFRESH_DELAY_S, self._start, review_id)

    def _start(self, review_id: str) -> None:
        self._pending.discard(review_id)
        task = asyncio.get_running_loop().create_task(self._refresh(review_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _refresh(self, review_id: str) -> None:
        try:
            if not rv.is_read_only(await self.meeting.review(review_id)):
                await refresh(self.meeting, review_id)
        except Exception as exc:  # a closed or failed room: nothing to show, nothing lost
            log.info("sign-offs of %s not refreshed: %s", review_id, exc)
