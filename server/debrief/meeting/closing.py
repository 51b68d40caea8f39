"""The recap built live from the three docs, and closing: lint gate, freeze, version.

Closing is atomic: closed <=> a frozen version exists. While close holds the review
(exclusively against every other command in this process, and its storage lock across
processes) connected clients lose write access, the docs' queued updates are flushed,
the recap is built, checked to render, and stored as version 1 with the audit log; only
then does the review record flip to "closed" (with its version) in one write. Any
failure before the flip gives the clients their write access back and leaves the review
open, so it can simply be closed again.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pycrdt import Doc, Map, Text

from debrief.auth.roles import DocName, doc_key

from . import carried as cr
from . import docdata as dd
from . import lint, signoffs
from . import recap as rc
from . import review as rv
from .errors import Conflict
from .parking import read_parked
from .publication import publish_locked
from .service import FROZEN_RECAP, REVIEW, MeetingService, meeting_state, now_ms, write_review
from .values import format_utc

log = logging.getLogger(__name__)

# Theme sections in the room doc are note kinds; the recap names its sections in plural.
_RECAP_SECTION = {"contributing-factor": "contributing-factors", "worked-well": "worked-well"}
AUDIT = "audit"  # record kind written by the rooms (who changed timeline/recap, and when)
_AUDIT_KEYS = ("at_ms", "participant_id", "name", "role", "doc", "op", "target", "fields")


def today() -> date:
    return datetime.now(UTC).date()


# Readers: total over anything a doc may hold (see docdata); they never raise.


def read_actions(doc: Doc) -> list[dict[str, Any]]:
    """Action items of the `recap` doc in their documented shape, oldest first."""
    items = [dd.action(key, raw) for key, raw in dd.entries(doc.get("actions", type=Map))]
    return sorted(items, key=lambda a: (a["created_ms"], a["id"]))


def _keyed(root: Map, shape: Any) -> dict[str, dict[str, Any]]:
    return {key: shape(key, raw) for key, raw in dd.entries(root)}


def _read_room(doc: Doc) -> dict[str, Any]:
    return {
        "meeting": {"signoffs": dd.count(meeting_state(doc).get("signoffs"))},
        "notes": _keyed(doc.get("notes", type=Map), dd.note),
        "themes": _keyed(doc.get("themes", type=Map), dd.theme),
        "votes": {str(k): dd.count(v) for k, v in doc.get("votes", type=Map).items()},
        "voting": dict(dd.entries(doc.get("voting", type=Map))),
        "parked": [topic["text"] for topic in read_parked(doc)],
        "carried": cr.statuses(meeting_state(doc)),
    }


def _read_recap(doc: Doc) -> dict[str, Any]:
    return {
        "text": str(doc.get("text", type=Text)),
        "followups": str(doc.get("followups", type=Text)),
        "actions": read_actions(doc),
        "carried": cr.entries(doc),
    }


def _read_timeline(doc: Doc) -> list[dict[str, Any]]:
    return [dd.event(key, raw) for key, raw in dd.entries(doc.get("events", type=Map))]


def _vote_count(room: Mapping[str, Any], target: str, section: str, hide: bool) -> int | None:
    """The shown count, or None while the section's counts are hidden."""
    votes = dd.record(room.get("votes")) or {}
    if target in votes:
        return dd.count(votes[target])
    voting = dd.record((dd.record(room.get("voting")) or {}).get(section))
    if voting is not None and hide and voting.get("status") != "closed":
        return None
    return 0


def _shaped(value: Any, shape: Any) -> list[dict[str, Any]]:
    """Records of a room map given as plain data, each in its documented shape."""
    found = dd.record(value) or {}
    return [shape(str(k), r) for k, r in ((k, dd.record(v)) for k, v in found.items()) if r]


def assemble(
    review: Mapping[str, Any],
    room: Mapping[str, Any],
    timeline: list[dict[str, Any]],
    recap_doc: Mapping[str, Any],
) -> dict[str, Any]:
    """Pure: the recap from plain doc data (only what everyone may already see)."""
    settings = dd.record(review.get("settings")) or {}
    hide = bool(settings.get("hide_counts_until_closed"))
    themes = [
        {**t, "section": _RECAP_SECTION.get(t["section"], t["section"]),
         "votes": _vote_count(room, t["id"], t["section"], hide)}
        for t in _shaped(room.get("themes"), dd.theme)
    ]  # fmt: skip
    notes = [
        {**n, "votes": _vote_count(room, n["id"], n["kind"], hide)}
        for n in _shaped(room.get("notes"), dd.note)
    ]
    meeting = dd.record(room.get("meeting")) or {}
    return rc.build_recap(
        review,
        timeline,
        themes,
        notes,
        recap_doc.get("actions") or [],
        dd.text(recap_doc.get("text")),
        dd.count(meeting.get("signoffs")),
        review.get("version"),
        follow_ups=[line for line in dd.text(recap_doc.get("followups")).splitlines()
                    if line.strip()],
        parked=dd.texts(room.get("parked")),
        carried=cr.for_recap(room.get("carried"), recap_doc.get("carried")),
    )  # fmt: skip


async def live_recap(meeting: MeetingService, review: Mapping[str, Any]) -> dict[str, Any]:
    review_id = review["id"]
    room = await meeting.read(review_id, DocName.ROOM, _read_room)
    timeline = await meeting.read(review_id, DocName.TIMELINE, _read_timeline)
    recap_doc = await meeting.read(review_id, DocName.RECAP, _read_recap)
    return assemble(review, room, timeline, recap_doc)


async def current_recap(meeting: MeetingService, review_id: str) -> dict[str, Any]:
    """The frozen version of a closed review, else the live draft."""
    review = await meeting.review(review_id)
    if rv.is_read_only(review):
        frozen = await meeting.storage.get_record(FROZEN_RECAP, review_id)
        if frozen is not None:
            return frozen
    return await live_recap(meeting, review)


SHOWN_ACTIONS = 3


async def lint_review(meeting: MeetingService, review_id: str) -> dict[str, Any]:
    actions = await meeting.read(review_id, DocName.RECAP, read_actions)
    problems = lint.lint_actions(actions, today())
    return {
        "clean": lint.is_clean(problems),
        "actions": lint.problems_to_dict(problems),
        "summary": needs_work_summary(actions, problems),
    }


def needs_work_summary(
    actions: list[dict[str, Any]], problems: dict[str, list[lint.LintProblem]]
) -> str:
    """What the moderator reads when a close is refused: the actions by their wording
    and the first thing to fix in each (ids and API paths mean nothing to them)."""
    wording = {str(a.get("id", "")): str(a.get("what", "")).strip() for a in actions}
    failing = [(key, found) for key, found in problems.items() if found]
    shown = []
    for key, found in failing[:SHOWN_ACTIONS]:
        what = wording.get(key) or "an action without a description"
        what = what if len(what) <= 60 else what[:59].rstrip() + "…"
        shown.append(f"“{what}”: {found[0].message.rstrip('.').lower()}")
    more = len(failing) - len(shown)
    listed = "; ".join(shown) + (f"; and {more} more" if more else "")
    count = f"{len(failing)} action item{'s' if len(failing) != 1 else ''}"
    return (
        f"{count} still need{'s' if len(failing) == 1 else ''} work ({listed}). Fix them in "
        "the action items, or write why the meeting closes anyway."
    )


def frozen_checked(recap: dict[str, Any]) -> dict[str, Any]:
    """Raise unless every export renders and the record is strict JSON, before anything
    is marked closed: a version that cannot be shown must never be the final one."""
    json.dumps(recap, allow_nan=False)
    rc.to_markdown(recap)
    rc.to_html(recap)
    return recap


async def audit_entries(meeting: MeetingService, review_id: str) -> list[dict[str, Any]]:
    """The review's audit log (who changed timeline and recap, when), JSON-safe."""
    for name in (DocName.TIMELINE, DocName.RECAP):
        room = meeting.rooms.rooms.get(doc_key(review_id, name))
        flush = getattr(room, "flush_audit", None)  # entries held back for coalescing
        if flush is not None:
            await flush()
    entries = []
    for record in await meeting.storage.list_records(AUDIT, review_id):
        found = dd.record(record)
        if found is not None:
            entries.append({k: dd.plain(found.get(k), 2) for k in _AUDIT_KEYS})
    return entries


NO_ACTIONS = (
    "This review has no action items. Add the actions the meeting agreed on, or write "
    "why it closes without any."
)


async def close(meeting: MeetingService, review_id: str, reason: str) -> dict[str, Any]:
    async with meeting.gate.exclusive(review_id), meeting.lock(review_id):
        review = await meeting.review(review_id)
        if rv.is_read_only(review):
            await _mirror(meeting, review)  # a close whose last step failed: show it now
        review = await meeting.writable_review(review_id)
        rv.next_status(review["status"], "closed")
        report = await lint_review(meeting, review_id)
        reason = reason.strip()
        if not report["clean"] and not reason:
            raise Conflict(report["summary"], error="actions-need-work")
        # A review that agreed on nothing to do says why, as a lint failure would.
        no_actions = not await meeting.read(review_id, DocName.RECAP, read_actions)
        if no_actions and not reason:
            raise Conflict(NO_ACTIONS, error="no-actions-reason-required")
        closed = {
            **review,
            "status": "closed",
            "close_reason": reason if no_actions or not report["clean"] else "",
            "closed_ms": now_ms(),
        }
        # held changes go in first; the count frozen is of sign-offs on the wording as it is
        await publish_locked(meeting, review_id)
        await signoffs.refresh(meeting, review_id)
        frozen = meeting.freeze_peers(review_id)
        try:
            final = await _freeze(meeting, closed)
        except BaseException:
            meeting.thaw_peers(frozen)
            raise
        # The review is closed from here on; the room doc only mirrors it.
        await _mirror(meeting, closed | {"version": final["version"]})
        await meeting.review_saved(closed | {"version": final["version"]})
        # A socket that read the review just before it closed may have joined meanwhile.
        meeting.freeze_peers(review_id)
    return final


async def _freeze(meeting: MeetingService, closed: dict[str, Any]) -> dict[str, Any]:
    """Build and store version 1, then flip the review record; nothing flips on failure."""
    review_id = closed["id"]
    storage = meeting.storage
    await meeting.flush(review_id)
    recap = await live_recap(meeting, closed)
    recap["audit"] = await audit_entries(meeting, review_id)
    final = frozen_checked(rc.finalize(recap, 1, format_utc(datetime.now(UTC))))
    await storage.put_record(FROZEN_RECAP, review_id, final, review_id)
    try:
        await storage.put_record(REVIEW, review_id, {**closed, "version": final["version"]},
                                 review_id)  # fmt: skip
    except BaseException:
        with contextlib.suppress(Exception):  # not closed: no version may be left behind
            await storage.delete_record(FROZEN_RECAP, review_id)
        raise
    return final


async def _mirror(meeting: MeetingService, review: dict[str, Any]) -> None:
    """Show the closed review in the `room` doc (the record already says closed)."""
    try:
        await meeting.edit(review["id"], DocName.ROOM, lambda doc: write_review(doc, review),
                           allow_closed=True)  # fmt: skip
    except Exception:
        # The close itself stands; the next close attempt writes the mirror again.
        log.exception("review %s is closed but its room doc could not show it yet", review["id"])
