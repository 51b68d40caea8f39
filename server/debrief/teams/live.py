"""Live reviews hear about status changes of the actions they carry.

A review created with ``carry_over`` walks earlier actions in its open-actions phase
(http/carryover_api.py). When it first lists them, each one's gid goes into the index
``carried/<gid>`` with the carrying review as member. A status change (any route: the
owner's personal link, a team admin, a moderator) then finds every review that carries
the action and, while that review is not closed, shows the new status in its `room`
doc (``meeting["carried"][gid]``); every connected client sees the change through Yjs
and refetches the list.
"""

from __future__ import annotations

import logging
from typing import Any

from debrief.auth.roles import DocName, doc_key
from debrief.delivery import events as delivery_events
from debrief.meeting import carried as cr
from debrief.meeting import review as rv
from debrief.meeting.service import REVIEW, now_ms
from debrief.storage.base import Storage
from debrief.teams import facts_store

log = logging.getLogger(__name__)

# One action is carried by few reviews; a bound keeps a status change cheap whatever
# the index holds.
MAX_CARRIERS = 50


def carried_index(gid: str) -> str:
    """The reviews carrying an action (members: review ids; score: when carried in)."""
    return f"carried/{gid}"


async def record_carried(storage: Storage, review_id: str, gids: list[str]) -> None:
    """Remember that ``review_id`` carries these actions (its first listing of them)."""
    at = float(now_ms())
    for gid in gids:
        await storage.index_put(carried_index(gid), review_id, at, {"review_id": review_id})


async def open_carrier(storage: Storage, review_id: str, gid: str) -> bool:
    """Whether ``review_id`` carries the action and is not closed: its moderator and
    scribe may then change the action's status (followup_api.may_manage)."""
    if await storage.index_get(carried_index(gid), review_id) is None:
        return False
    review = await storage.get_record(REVIEW, review_id)
    return review is not None and not rv.is_read_only(review)


async def status_changed(svc: Any, state: dict[str, Any]) -> None:
    """Tell every live review that carries this action that its status changed.

    ``svc``: anything with ``storage`` and ``rooms`` (the app's Services, or the
    MeetingService). The change itself is already stored: a review whose room cannot be
    written now is logged and skipped (its clients still see the new status on their
    next refetch, which also corrects the room doc).
    """
    gid, status = str(state.get("gid") or ""), str(state.get("status") or "")
    if not gid or not status:
        return
    storage: Storage = svc.storage
    # Every status change passes here: the insights' followed index follows it too.
    await facts_store.action_changed(storage, state)
    # newest first: a review deleted or closed long ago only takes a place further back
    carriers = await storage.index_range(carried_index(gid), limit=MAX_CARRIERS, reverse=True)
    for entry in carriers:
        try:
            await show_status(svc, entry.member, {gid: status})
        except Exception:
            log.exception("review %s carries %s but could not show its new status", entry.member,
                          gid)  # fmt: skip
    await delivery_events.action_changed(svc, state)  # done: ask the verifiers to check it


async def show_status(svc: Any, review_id: str, changes: dict[str, str]) -> bool:
    """Write statuses into a review's room doc unless the review is gone or closed (its
    docs are frozen then); True when something was written."""
    review = await svc.storage.get_record(REVIEW, review_id)
    if review is None or rv.is_read_only(review):
        return False
    written: list[bool] = []
    async with svc.rooms.borrow(doc_key(review_id, DocName.ROOM)) as room:
        if not cr.changed_statuses(room.doc, changes):
            return False  # the usual case when a client refetches: nothing to write
        await room.edit(lambda doc: written.append(cr.set_statuses(doc, changes, now_ms())))
    return bool(written and written[0])
