"""Dot voting per section, on top of the storage's atomic ballots.

A ballot is "<review>/<section>"; the voter is the participant id, which stays in
storage. The limit is checked by `Storage.cast_vote` in the same step as the write, so
it holds under concurrent requests and across processes. Counts reach `room.votes`
only when they may be shown: live when the review does not hide them, else when the
section's voting closes. Targets are revealed notes and themes of the section; a theme
also collects the votes of the themes merged into it (`absorbed`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pycrdt import Doc, Map

from debrief.auth.roles import DocName

from . import docdata as dd
from .errors import Conflict, NotFound
from .note_view import check_section
from .service import MeetingService, now_ms


def ballot(review_id: str, section: str) -> str:
    return f"{review_id}/{section}"


def target_section(doc: Doc, target: str) -> str:
    """The section a note or theme belongs to; NotFound for anything else."""
    note = doc.get("notes", type=Map).get(target)
    if isinstance(note, dict):
        return dd.text(note.get("kind"))
    theme = doc.get("themes", type=Map).get(target)
    if isinstance(theme, dict):
        return dd.text(theme.get("section"))
    raise NotFound("nothing to vote on with this id (a revealed note or a theme)",
                   error="unknown-target")  # fmt: skip


def effective_counts(doc: Doc, section: str, raw: Mapping[str, int]) -> dict[str, int]:
    """Counts per visible target of `section`, with merged themes folded in."""
    counts: dict[str, int] = {}
    for note_id, note in doc.get("notes", type=Map).items():
        if isinstance(note, dict) and note.get("kind") == section:
            counts[note_id] = raw.get(note_id, 0)
    for theme_id, theme in doc.get("themes", type=Map).items():
        if isinstance(theme, dict) and theme.get("section") == section:
            absorbed = dd.texts(theme.get("absorbed"))
            counts[theme_id] = raw.get(theme_id, 0) + sum(raw.get(a, 0) for a in absorbed)
    return counts


def counts_visible(voting: Mapping[str, Any] | None, hide_until_closed: bool) -> bool:
    if voting is None:
        return False
    return not hide_until_closed or voting.get("status") == "closed"


class VotingService:
    def __init__(self, meeting: MeetingService) -> None:
        self.meeting = meeting
        self.storage = meeting.storage

    async def set_open(self, review: Mapping[str, Any], section: str, is_open: bool) -> Any:
        check_section(section)
        review_id = review["id"]
        hide = bool(review["settings"].get("hide_counts_until_closed"))

        def change(doc: Doc) -> dict[str, Any]:
            voting = doc.get("voting", type=Map)
            current = voting.get(section)
            status = current.get("status") if isinstance(current, dict) else None
            if is_open and status == "open":
                raise Conflict("voting is already open in this section", error="voting-open")
            if not is_open and status != "open":
                raise Conflict("voting is not open in this section", error="voting-not-open")
            now = now_ms()
            fresh = (
                {"status": "open", "opened_ms": now, "closed_ms": None}
                if is_open
                else {**current, "status": "closed", "closed_ms": now}
            )
            voting[section] = fresh
            self.write_counts(doc, section, raw, counts_visible(fresh, hide))
            return fresh

        async with self.meeting.locked_writable(review_id):  # close holds this lock too
            raw = await self.storage.tally(ballot(review_id, section))
            return await self.meeting.edit_returning(
                review_id, DocName.ROOM, change, checked_under_lock=True
            )

    async def cast(self, review: Mapping[str, Any], voter: str, target: str, up: bool) -> Any:
        """One vote on (or off) `target`; returns the voter's own votes in that section."""
        review_id = review["id"]
        section = await self._open_section(review_id, target)
        limit = int(review["settings"].get("votes_per_person") or 3)
        name = ballot(review_id, section)
        # Under the review's lock, which close holds too (across processes): a vote
        # either lands before the close or is refused, never after it.
        async with self.meeting.locked_writable(review_id):
            self.storage.release_lock_with_next_write()  # the vote is all it writes
            if up:
                outcome = await self.storage.cast_vote(name, voter, target, limit)
                if not outcome.done:
                    raise Conflict(f"you have used all {limit} of your votes in this section",
                                   error="vote-limit")  # fmt: skip
            else:
                outcome = await self.storage.retract_vote(name, voter, target)
                if not outcome.done:
                    raise NotFound("you have no vote on this to take back", error="no-vote")
            if not review["settings"].get("hide_counts_until_closed"):
                # live counts: shown with others' votes, not at the moment of this one
                self.meeting.held.hold(review_id, voter, sections={section})
        mine = outcome.mine
        return {"section": section, "votes": mine, "used": sum(mine.values()), "limit": limit}

    async def mine(self, review: Mapping[str, Any], voter: str) -> dict[str, Any]:
        limit = int(review["settings"].get("votes_per_person") or 3)
        voting = await self.meeting.read(
            review["id"], DocName.ROOM, lambda d: d.get("voting", type=Map).to_py()
        )
        sections = {}
        for section in voting:
            mine = await self.storage.votes_of(ballot(review["id"], section), voter)
            sections[section] = {"votes": mine, "used": sum(mine.values()), "limit": limit}
        return {"sections": sections}

    async def publish(self, review_id: str, section: str, visible: bool) -> None:
        # Tally and write under the lock, so a slower request never shows an older tally.
        async with self.meeting.lock(review_id):
            await self._publish_locked(review_id, section, visible)

    async def _publish_locked(self, review_id: str, section: str, visible: bool) -> None:
        raw = await self.storage.tally(ballot(review_id, section))
        await self.meeting.edit(
            review_id, DocName.ROOM, lambda doc: self.write_counts(doc, section, raw, visible)
        )

    async def refresh(self, review: Mapping[str, Any], section: str) -> None:
        """Recompute a section's shown counts (after a merge moved votes)."""
        voting = await self.meeting.read(
            review["id"], DocName.ROOM, lambda d: d.get("voting", type=Map).get(section)
        )
        hide = bool(review["settings"].get("hide_counts_until_closed"))
        await self.publish(review["id"], section, counts_visible(voting, hide))

    async def _open_section(self, review_id: str, target: str) -> str:
        def find(doc: Doc) -> str:
            section = target_section(doc, target)
            voting = doc.get("voting", type=Map).get(section)
            if not isinstance(voting, dict) or voting.get("status") != "open":
                raise Conflict("voting is not open in this section", error="voting-not-open")
            return section

        return await self.meeting.read(review_id, DocName.ROOM, find)

    @staticmethod
    def write_counts(doc: Doc, section: str, raw: Mapping[str, int], visible: bool) -> None:
        votes = doc.get("votes", type=Map)
        counts = effective_counts(doc, section, raw) if visible else {}
        for key in list(votes.keys()):
            if key not in counts and _in_section(doc, key, section):
                del votes[key]
        for key, count in counts.items():
            if votes.get(key) != count:
                votes[key] = count


def _in_section(doc: Doc, target: str, section: str) -> bool:
    try:
        return target_section(doc, target) == section
    except NotFound:
        return True  # a target that no longer exists: drop its count
