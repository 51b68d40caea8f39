"""Publishing what meeting/held.py held back: the notes as their records say now and the
vote counts of the sections that changed, in one transaction and in random order, so
the changes of several people arrive as one and cannot be told apart by their order."""

from __future__ import annotations

import random
from typing import Any

from pycrdt import Doc, Map

from debrief.auth.roles import DocName

from . import review as rv
from .discussion import COMMENT, public_comment
from .note_view import republished
from .service import NOTE, MeetingService
from .voting import VotingService, ballot, counts_visible

_shuffle = random.SystemRandom().shuffle


async def publish_held(meeting: MeetingService, review_id: str) -> None:
    """The timer's way in: takes the review's lock (a reveal or close may hold it)."""
    async with meeting.lock(review_id):
        await publish_locked(meeting, review_id)


async def publish_locked(meeting: MeetingService, review_id: str) -> None:
    """Publish what waits for ``review_id``; the caller holds the review's lock."""
    held = meeting.held.take(review_id)
    if held is None:
        return
    review = await meeting.review(review_id)
    if rv.is_read_only(review):
        return  # closed: the close published everything first
    records = [(nid, await meeting.storage.get_record(NOTE, nid)) for nid in held.notes]
    _shuffle(records)
    comments = [(cid, await meeting.storage.get_record(COMMENT, cid)) for cid in held.comments]
    _shuffle(comments)
    tallies = {s: await meeting.storage.tally(ballot(review_id, s)) for s in held.sections}
    hide = bool(review["settings"].get("hide_counts_until_closed"))

    def change(doc: Doc) -> None:
        notes = doc.get("notes", type=Map)
        for note_id, record in records:
            if record is None or not record.get("revealed"):
                if note_id in notes:
                    del notes[note_id]
                continue
            shown: Any = notes.get(note_id)
            notes[note_id] = republished(record, shown if isinstance(shown, dict) else {})
        shown_comments = doc.get("comments", type=Map)
        for comment_id, comment in comments:
            if comment is None:
                if comment_id in shown_comments:
                    del shown_comments[comment_id]
            else:
                shown_comments[comment_id] = public_comment(comment)
        voting = doc.get("voting", type=Map)
        for section, raw in tallies.items():
            visible = counts_visible(voting.get(section), hide)
            VotingService.write_counts(doc, section, raw, visible)

    await meeting.edit(review_id, DocName.ROOM, change, checked_under_lock=True)
