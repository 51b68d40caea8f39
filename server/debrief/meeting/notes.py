"""Anonymous notes: private until revealed, then published by the server without author.

Ownership is kept only in storage records (kind "note"); nothing here ever writes an
author, a participant id or a creation time into a shared doc. Before its section is
revealed a note is visible to others only as a count, which the server shows in its
own awareness entry of the `room` doc (`show_note_counts`), not in the doc: a count is
derived from the stored tally, so it needs no durable edit of a shared doc per note,
and a room loaded later shows it again from the tally (`shown_counts`). A reveal
inserts the section's notes in one transaction in an order drawn from the OS's random
source, so neither the order nor the ids say anything about who wrote what or when.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from pycrdt import Doc, Map

from debrief.auth.roles import DocName
from debrief.auth.sessions import Session
from debrief.storage.base import RecordWrite, Storage

from .errors import Conflict, NotFound, ValidationError
from .note_tally import NOTE_TALLY, NoteTally
from .note_view import QUESTIONNAIRE, check_section, public_note
from .publication import publish_locked
from .service import NOTE, MeetingService, meeting_state, now_ms
from .values import clean_text

MAX_NOTE = 1_000
MAX_NOTES_PER_PERSON = 200
# Per review too: a person may join again as a new session (a new "person" here).
MAX_NOTES_PER_REVIEW = 2_000
_random = secrets.SystemRandom()


def note_text(value: Any) -> str:
    return clean_text(value, "text", max_len=MAX_NOTE, min_len=1)


def own_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """The author's own view of their note (only ever sent to them)."""
    return {
        "id": record["id"],
        "text": record["text"],
        "kind": record["kind"],
        "prompt": record.get("prompt"),
        "revealed": bool(record.get("revealed")),
        "anonymous": bool(record.get("anonymous", True)),
        "yours": True,
    }


class NoteService:
    def __init__(self, meeting: MeetingService, max_per_review: int = MAX_NOTES_PER_REVIEW) -> None:
        self.meeting = meeting
        self.storage = meeting.storage
        self.max_per_review = max_per_review

    async def records(self, review_id: str) -> list[dict[str, Any]]:
        return await self.storage.list_records(NOTE, review_id)

    async def mine(self, review_id: str, session: Session) -> list[dict[str, Any]]:
        owner = session.participant_id
        return [r for r in await self.records(review_id) if r["owner"] == owner]

    async def own_record(self, review_id: str, session: Session, note_id: str) -> dict[str, Any]:
        record = await self.storage.get_record(NOTE, note_id)
        # Someone else's note reads exactly like a missing one: no ownership oracle.
        if (
            record is None
            or record.get("review_id") != review_id
            or record["owner"] != session.participant_id
        ):
            raise NotFound("you have no note with this id", error="unknown-note")
        return record

    async def submit(
        self, review: Mapping[str, Any], session: Session, kind: str, text: str,
        prompt: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        review_id = review["id"]
        # Checked again under the lock: close (maybe in another process) holds it too.
        tally_key = (NOTE_TALLY, review_id)
        async with self.meeting.locked_reading(review_id, [tally_key]) as (_, (found,)):
            tally = await self._tally(review_id, found)
            owner = session.participant_id
            if tally.owners.get(owner, 0) >= MAX_NOTES_PER_PERSON:
                raise Conflict(f"at most {MAX_NOTES_PER_PERSON} notes per person",
                               error="too-many-notes")  # fmt: skip
            if tally.total >= self.max_per_review:
                raise Conflict(f"this review holds {self.max_per_review} notes, as many as it "
                               "takes", error="review-notes-full")  # fmt: skip
            if tally.revealed is None:  # not kept in this tally yet: from the doc, once
                tally.revealed = set(await self.meeting.revealed_sections(review_id))
            revealed = kind in tally.revealed
            record = {
                "id": "n_" + secrets.token_urlsafe(9),
                "review_id": review_id,
                "owner": session.participant_id,
                "author_name": session.name,
                "kind": check_section(kind),
                "text": note_text(text),
                "prompt": prompt,
                "anonymous": bool(review["settings"].get("anonymous", True)),
                "revealed": revealed,
                "created_ms": now_ms(),
            }
            tally.add(record)
            if not revealed:
                tally.tick()  # the counts everyone sees change
            records: list[RecordWrite] = [
                (NOTE, record["id"], record, review_id),
                (*tally_key, tally.to_record(), review_id),
            ]
            if record["revealed"]:  # its section is open: shown with others' changes (held.py)
                await self.storage.put_records(records)
                self.meeting.held.hold(review_id, session.participant_id, notes={record["id"]})
            else:  # the note and the count it changes are stored in one step
                self.storage.release_lock_with_next_write()  # nothing is written after it
                await self.storage.put_records(records)
        if not revealed:  # stored: now shown (in order of the tally's clock, lock or not)
            await self.meeting.show_note_counts(review_id, tally)
        return record

    async def _tally(self, review_id: str, found: Mapping[str, Any] | None) -> NoteTally:
        """The review's tally as read under its lock, else counted from its notes."""
        kept = NoteTally.from_record(found)
        if kept is not None:
            return kept
        return NoteTally.counting(await self.records(review_id))

    async def edit(self, review_id: str, session: Session, note_id: str, text: str) -> Any:
        async with self.meeting.locked_writable(review_id):
            record = await self.own_record(review_id, session, note_id)
            record = {**record, "text": note_text(text)}
            await self.storage.put_record(NOTE, note_id, record, review_id)
            if record["revealed"]:
                self.meeting.held.hold(review_id, session.participant_id, notes={note_id})
        return record

    async def delete(self, review_id: str, session: Session, note_id: str) -> None:
        async with self.meeting.locked_writable(review_id):
            record = await self.own_record(review_id, session, note_id)
            # the tally goes first: without it the next note counts afresh (note_tally.py)
            await self.storage.delete_record(NOTE_TALLY, review_id)
            await self.storage.delete_record(NOTE, note_id)
            if record["revealed"]:
                self.meeting.held.hold(review_id, session.participant_id, notes={note_id})
                return
            tally = await self._recount(review_id)
        await self.meeting.show_note_counts(review_id, tally)

    async def _recount(self, review_id: str) -> NoteTally:
        """Count the review's notes afresh and store the tally (under the review's lock),
        its clock above whatever was shown: the time, as the old one is gone."""
        tally = NoteTally.counting(await self.records(review_id))
        tally.tick()
        await self.storage.put_record(NOTE_TALLY, review_id, tally.to_record(), review_id)
        return tally

    async def reveal(self, review_id: str, section: str) -> int:
        """Publish every hidden note of `section`, shuffled, in one transaction."""
        check_section(section)
        tally_key = (NOTE_TALLY, review_id)
        async with self.meeting.locked_reading(review_id, [tally_key]) as (review, (found,)):
            await publish_locked(self.meeting, review_id)  # whatever was held goes out first
            questions = [q for q in review.get("questionnaire") or () if isinstance(q, str)]
            hidden = [
                r for r in await self.records(review_id)
                if r["kind"] == section and not r.get("revealed")
            ]  # fmt: skip
            _random.shuffle(hidden)

            def change(doc: Doc) -> None:
                if meeting_state(doc)["revealed"].get(section):
                    raise Conflict(f"the {section} notes are already revealed",
                                   error="already-revealed")  # fmt: skip
                notes = doc.get("notes", type=Map)
                for record in hidden:
                    notes[record["id"]] = public_note(record, questions=questions)
                meeting = doc.get("meeting", type=Map)
                meeting["revealed"] = {**meeting_state(doc)["revealed"], section: True}
                legacy = doc.get("note_counts", type=Map)  # where older versions showed them
                if legacy.get(section):
                    legacy[section] = 0

            revealed: list[RecordWrite] = [
                (NOTE, r["id"], {**r, "revealed": True}, review_id) for r in hidden
            ]
            tally = NoteTally.from_record(found)
            if tally is not None:  # the tally follows
                tally.hidden[section] = 0
                if tally.revealed is not None:
                    tally.revealed.add(section)
                tally.tick()
                revealed.append((*tally_key, tally.to_record(), review_id))
            # the notes shown and their records marked revealed: one step, all or none
            await self.meeting.edit(
                review_id, DocName.ROOM, change, checked_under_lock=True, records=revealed
            )
            if tally is None:  # none, or a bad one: counted now, the notes marked revealed
                tally = await self._recount(review_id)
        await self.meeting.show_note_counts(review_id, tally)
        return len(hidden)

    async def answer_questionnaire(
        self, review: Mapping[str, Any], session: Session, answers: Mapping[int, str]
    ) -> list[dict[str, Any]]:
        """Set your answers by prompt index; an empty text removes that answer."""
        prompts = review["questionnaire"]
        for index in answers:
            if not 0 <= index < len(prompts):
                raise ValidationError(f"there is no prompt number {index}", field="answers")
        current = {
            r["prompt"]: r for r in await self.mine(review["id"], session)
            if r["kind"] == QUESTIONNAIRE
        }  # fmt: skip
        for index, text in answers.items():
            existing = current.get(index)
            if not text.strip():
                if existing is not None:
                    await self.delete(review["id"], session, existing["id"])
            elif existing is None:
                await self.submit(review, session, QUESTIONNAIRE, text, prompt=index)
            else:
                await self.edit(review["id"], session, existing["id"], text)
        return [
            own_view(r) for r in await self.mine(review["id"], session)
            if r["kind"] == QUESTIONNAIRE
        ]  # fmt: skip


async def shown_counts(storage: Storage, review_id: str) -> NoteTally | None:
    """The review's hidden counts as its tally has them, for a room that shows nothing
    yet; None when the review has no notes.

    Under the review's lock, as the notes take it: what is read and its clock go
    together, so whichever of this and a note's own counts arrives last, the newer stay.
    Without a tally (a review of an older version, or a crash between a delete's steps)
    the notes are counted and the tally stored, with a clock above any shown before."""
    key = (NOTE_TALLY, review_id)
    async with storage.lock_reading(f"review:{review_id}", [key]) as (found,):
        tally = NoteTally.from_record(found)
        if tally is None:
            tally = NoteTally.counting(await storage.list_records(NOTE, review_id))
            if not tally.total:
                return None
            tally.tick()
            await storage.put_record(*key, tally.to_record(), review_id)
    if not tally.total:
        return None
    tally.clock = max(tally.clock, 1)  # an older version's tally: no clock yet
    return tally
