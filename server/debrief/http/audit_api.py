"""The audit log of a review: who changed what in `timeline` and `recap`, and when.

Entries are written by the rooms as client writes are accepted (rooms/room.py); notes
and votes never enter it (they are anonymous and live in the server-written `room`).
"""

from __future__ import annotations

from typing import Any

from debrief.auth.roles import DocName, doc_key
from debrief.http.commands import MODERATOR, Call, CommandSet
from debrief.rooms.admission import AUDIT

api = CommandSet("audit")


@api.command("GET", "/audit", "Who changed the timeline and the recap, and when", roles=MODERATOR)
async def audit_log(call: Call, body: None) -> Any:
    for name in (DocName.TIMELINE, DocName.RECAP):
        room = call.svc.rooms.rooms.get(doc_key(call.review_id, name))
        if room is not None:
            await room.flush_audit()
    entries = await call.svc.storage.list_records(AUDIT, call.review_id)
    return {"entries": entries}
