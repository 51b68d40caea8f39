"""The recap built live from the three docs, and closing: lint gate, freeze, version.

Closing order matters: connected clients lose write access first, the review record
says "closed" next (new sockets and every command are refused from then on), then the
docs' queued updates are flushed, and only then is the recap built and hashed, so the
frozen version holds everything anyone saw and nothing can change after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pycrdt import Doc, Map, Text

from debrief.auth.roles import DocName

from . import lint
from . import recap as rc
from . import review as rv
from .errors import Conflict
from .service import FROZEN_RECAP, REVIEW, MeetingService, meeting_state, now_ms
from .values import format_utc

# Theme sections in the room doc are note kinds; the recap names its sections in plural.
_RECAP_SECTION = {"contributing-factor": "contributing-factors", "worked-well": "worked-well"}


def today() -> date:
    return datetime.now(UTC).date()


def read_actions(doc: Doc) -> list[dict[str, Any]]:
    """Action items of the `recap` doc, oldest first (clients may have written them)."""
    items = [
        {**value, "id": key}
        for key, value in doc.get("actions", type=Map).to_py().items()
        if isinstance(value, dict)
    ]
    return sorted(items, key=lambda a: (a.get("created_ms") or 0, a["id"]))


def _read_room(doc: Doc) -> dict[str, Any]:
    return {
        "meeting": meeting_state(doc),
        **{k: doc.get(k, type=Map).to_py() for k in ("notes", "themes", "votes", "voting")},
    }


def _read_recap(doc: Doc) -> dict[str, Any]:
    return {
        "text": str(doc.get("text", type=Text)),
        "followups": str(doc.get("followups", type=Text)),
        "actions": read_actions(doc),
    }


def _read_timeline(doc: Doc) -> list[dict[str, Any]]:
    return [v for v in doc.get("events", type=Map).to_py().values() if isinstance(v, dict)]


def _vote_count(room: Mapping[str, Any], target: str, section: str, hide: bool) -> int | None:
    """The shown count, or None while the section's counts are hidden."""
    if target in room["votes"]:
        return int(room["votes"][target])
    voting = room["voting"].get(section)
    if isinstance(voting, dict) and hide and voting.get("status") != "closed":
        return None
    return 0


def assemble(
    review: Mapping[str, Any],
    room: Mapping[str, Any],
    timeline: list[dict[str, Any]],
    recap_doc: Mapping[str, Any],
) -> dict[str, Any]:
    """Pure: the recap from plain doc data (only what everyone may already see)."""
    hide = bool(review["settings"].get("hide_counts_until_closed"))
    themes = [
        {**t, "section": _RECAP_SECTION.get(t.get("section", ""), t.get("section")),
         "votes": _vote_count(room, t["id"], t.get("section", ""), hide)}
        for t in room["themes"].values() if isinstance(t, dict)
    ]  # fmt: skip
    notes = [
        {**n, "votes": _vote_count(room, n["id"], n.get("kind", ""), hide)}
        for n in room["notes"].values()
        if isinstance(n, dict)
    ]
    return rc.build_recap(
        review,
        timeline,
        themes,
        notes,
        recap_doc["actions"],
        recap_doc["text"],
        int(room["meeting"].get("signoffs") or 0),
        review.get("version"),
        follow_ups=[line for line in recap_doc["followups"].splitlines() if line.strip()],
    )


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


async def lint_review(meeting: MeetingService, review_id: str) -> dict[str, Any]:
    actions = await meeting.read(review_id, DocName.RECAP, read_actions)
    problems = lint.lint_actions(actions, today())
    return {"clean": lint.is_clean(problems), "actions": lint.problems_to_dict(problems)}


async def close(meeting: MeetingService, review_id: str, reason: str) -> dict[str, Any]:
    async with meeting.lock(review_id):
        review = await meeting.writable_review(review_id)
        rv.next_status(review["status"], "closed")
        report = await lint_review(meeting, review_id)
        reason = reason.strip()
        if not report["clean"] and not reason:
            failing = [key for key, found in report["actions"].items() if found]
            raise Conflict(
                f"{len(failing)} action item(s) still need work ({', '.join(failing)}); "
                "fix them (see GET .../actions/lint) or close with a written reason",
                error="actions-need-work",
            )
        review = {
            **review,
            "status": "closed",
            "close_reason": "" if report["clean"] else reason,
            "closed_ms": now_ms(),
        }
        await meeting.storage.put_record(REVIEW, review_id, review, review_id)
        meeting.freeze_peers(review_id)
        await meeting.flush(review_id)
        final = rc.finalize(await live_recap(meeting, review), 1, format_utc(datetime.now(UTC)))
        await meeting.storage.put_record(FROZEN_RECAP, review_id, final, review_id)
        review["version"] = final["version"]
        await meeting.save_review(review)
        # A socket that read the review just before it closed may have joined meanwhile.
        meeting.freeze_peers(review_id)
    return final
