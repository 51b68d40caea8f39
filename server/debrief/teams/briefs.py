"""Where learning briefs and a team's training responses are kept, and what they read.

A brief (record "learning-brief", grouped by team) holds the text as written (names
and all; only the team reads it), the people it must not name (found when it is made
and again on every change), the moderator's added and undone replacements, and, once
published, the anonymised text as it was published, which never changes after.
Everything a brief is made from comes from the reviews' frozen recap versions, their
sessions and the team's directory, never from live docs.

The team's table of recurring finding -> training response is one record
("training-responses", id: team id); without one, the defaults of learning/brief.py.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from debrief.auth.sessions import SESSION
from debrief.learning import anonymise as an
from debrief.learning import brief as bf
from debrief.meeting.closing import AUDIT
from debrief.meeting.errors import Conflict, NotFound, ValidationError
from debrief.meeting.service import FROZEN_RECAP, REVIEW
from debrief.storage.base import Storage
from debrief.teams.directory import Directory
from debrief.teams.keys import ACTION_STATE, TEAM_SESSION, team_of

LEARNING_BRIEF = "learning-brief"  # id: brief id; grouped by team
TRAINING_RESPONSES = "training-responses"  # id: team id; grouped by team
MAX_TEXT = an.MAX_TEXT_SCANNED
DRAFT, PUBLISHED = "draft", "published"
_SESSION_ROLES = {"moderator", "scribe", "participant", "observer"}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _people_record(people: an.People) -> list[dict[str, Any]]:
    return [{"name": p.name, "role": p.role, "emails": sorted(p.emails),
             "handles": sorted(p.handles)} for p in people]  # fmt: skip


def people_from(rows: Sequence[dict[str, Any]]) -> an.People:
    people = an.People()
    for row in rows:
        name, role = str(row.get("name") or ""), str(row.get("role") or "colleague")
        people.add(name, role)
        for email in row.get("emails") or []:
            people.add(name, role, email=str(email))
        for handle in row.get("handles") or []:
            people.add(name, role, handle=str(handle))
    return people


def _added(record: dict[str, Any]) -> list[an.Added]:
    return [an.Added(str(a["id"]), str(a["original"]), str(a["replacement"]))
            for a in record.get("added") or []]  # fmt: skip


def preview(record: dict[str, Any]) -> an.Result:
    """The anonymised text and every replacement, as the record stands."""
    return an.anonymise(
        str(record.get("text") or ""),
        people_from(record.get("people") or []),
        _added(record),
        record.get("undone") or [],
    )


def title_of(record: dict[str, Any]) -> str:
    """The brief's name with the same replacements as its text (for exports)."""
    named = an.anonymise(str(record.get("name") or ""), people_from(record.get("people") or []),
                         _added(record))  # fmt: skip
    return named.text or "Learning brief"


def view(record: dict[str, Any]) -> dict[str, Any]:
    """A brief as the API shows it to the team: the text as written, and the preview."""
    shown = {k: record.get(k) for k in ("id", "team_id", "name", "status", "refs",
             "response_id", "created_ms", "created_by", "updated_ms", "published_ms",
             "published_by")}  # fmt: skip
    if record.get("status") == PUBLISHED:
        shown["published_text"] = record.get("published_text", "")
    result = preview(record)
    shown["text"] = record.get("text", "")
    shown["preview"] = {"text": result.text, "replacements": result.replacements,
                        "labels": sorted(set(result.labels.values()))}  # fmt: skip
    shown["added"] = record.get("added") or []
    shown["undone"] = record.get("undone") or []
    return shown


def summary(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: record.get(k)
        for k in ("id", "name", "status", "created_ms", "updated_ms", "published_ms")
    } | {"themes": len(record.get("refs") or [])}


class Briefs:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.directory = Directory(storage)

    # --- the team's table --------------------------------------------------------------

    async def responses(self, team_id: str) -> list[dict[str, Any]]:
        found = await self.storage.get_record(TRAINING_RESPONSES, team_id)
        rows = (found or {}).get("rows")
        if not isinstance(rows, list):
            return [dict(r) for r in bf.DEFAULT_RESPONSES]
        return [dict(r) for r in rows if isinstance(r, dict)]

    async def put_responses(self, team_id: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        try:
            clean = bf.check_responses(rows)
        except ValueError as exc:
            raise ValidationError(str(exc), error="invalid-responses") from None
        record = {"team_id": team_id, "rows": clean, "updated_ms": now_ms()}
        await self.storage.put_record(TRAINING_RESPONSES, team_id, record, team_id)
        return clean

    # --- sources -----------------------------------------------------------------------

    async def _closed_review(
        self, team_id: str, review_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        review = await self.storage.get_record(REVIEW, review_id)
        if review is None or team_of(review) != team_id:
            raise NotFound(f"this team has no review {review_id!r}", error="unknown-review")
        frozen = await self.storage.get_record(FROZEN_RECAP, review_id)
        if review.get("status") != "closed" or frozen is None:
            raise Conflict("a brief is made from closed reviews only; this one is still open",
                           error="review-not-closed")  # fmt: skip
        return {**review, "id": review_id}, frozen

    async def scenarios(
        self, team_id: str, refs: Sequence[tuple[str, str]]
    ) -> tuple[list[bf.Scenario], list[str]]:
        """The scenarios of the refs, in order, and the reviews they come from."""
        found: list[bf.Scenario] = []
        closed: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        for review_id, theme_id in refs:
            if review_id not in closed:
                closed[review_id] = await self._closed_review(team_id, review_id)
            review, frozen = closed[review_id]
            one = bf.scenario(review, frozen, theme_id)
            if one is None:
                raise NotFound(f"review {review_id!r} has no theme {theme_id!r}",
                               error="unknown-theme")  # fmt: skip
            found.append(one)
        return found, list(closed)

    async def people(self, team_id: str, review_ids: Sequence[str]) -> an.People:
        """Everyone the brief must not name: the reviews' attendees (by their role), the
        names in their audit logs, the action owners, the team's directory and members."""
        people = an.People()
        for review_id in review_ids:
            for session in await self.storage.list_records(SESSION, review_id):
                role = str(session.get("role") or "")
                people.add(str(session.get("name") or ""),
                           role if role in _SESSION_ROLES else "colleague")  # fmt: skip
            for entry in await self.storage.list_records(AUDIT, review_id):
                role = str(entry.get("role") or "")
                people.add(str(entry.get("name") or ""),
                           role if role in _SESSION_ROLES else "colleague")  # fmt: skip
            frozen = await self.storage.get_record(FROZEN_RECAP, review_id) or {}
            for entry in frozen.get("audit") or []:
                if isinstance(entry, dict):
                    role = str(entry.get("role") or "")
                    people.add(str(entry.get("name") or ""),
                               role if role in _SESSION_ROLES else "colleague")  # fmt: skip
            for key in ("actions", "carried_actions"):
                for action in frozen.get(key) or []:
                    if isinstance(action, dict):
                        people.add(str(action.get("owner") or ""), "owner")
            for state in await self.storage.list_records(ACTION_STATE, review_id):
                people.add(str(state.get("owner") or ""), "owner")
                for entry in state.get("history") or []:
                    if isinstance(entry, dict):
                        people.add(str(entry.get("by") or ""), "colleague")
        for person in await self.directory.people(team_id):
            name = str(person.get("name") or "")
            people.add(name, "colleague", email=str(person.get("email") or ""),
                       handle=str(person.get("handle") or ""))  # fmt: skip
        for member in await self.storage.list_records(TEAM_SESSION, team_id):
            people.add(str(member.get("name") or ""), "colleague")
        return people

    # --- briefs ------------------------------------------------------------------------

    async def create(
        self,
        team_id: str,
        name: str,
        refs: Sequence[tuple[str, str]],
        *,
        response_id: str = "",
        by: str = "",
    ) -> dict[str, Any]:
        unique = list(dict.fromkeys(refs))
        scenarios, review_ids = await self.scenarios(team_id, unique)
        responses = await self.responses(team_id)
        response = bf.choose_response(responses, scenarios, response_id)
        if response_id and response is None:
            raise NotFound("the team's table has no such training response",
                           error="unknown-response")  # fmt: skip
        people = await self.people(team_id, review_ids)
        at = now_ms()
        record = {
            "id": "lb_" + secrets.token_hex(8),
            "team_id": team_id,
            "name": " ".join(name.split()),
            "status": DRAFT,
            "refs": [f"{r}:{t}" for r, t in unique],
            "response_id": (response or {}).get("id", ""),
            "text": bf.build_markdown(name, scenarios, response),
            "people": _people_record(people),
            "added": [],
            "undone": [],
            "created_ms": at,
            "created_by": by,
            "updated_ms": at,
            "published_ms": None,
            "published_by": "",
        }
        await self.storage.put_record(LEARNING_BRIEF, record["id"], record, team_id)
        return record

    async def get(self, team_id: str, brief_id: str) -> dict[str, Any]:
        found = await self.storage.get_record(LEARNING_BRIEF, brief_id)
        if found is None or found.get("team_id") != team_id:
            raise NotFound("this team has no such learning brief", error="unknown-brief")
        return found

    async def list(self, team_id: str) -> list[dict[str, Any]]:
        found = await self.storage.list_records(LEARNING_BRIEF, team_id)
        return sorted((summary(r) for r in found), key=lambda s: -(s.get("created_ms") or 0))

    async def change(
        self,
        team_id: str,
        brief_id: str,
        *,
        text: str | None = None,
        add: Sequence[tuple[str, str]] = (),
        undo: Sequence[str] = (),
        redo: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Edit the text, add replacements, undo or redo some; a published brief is final."""
        async with self.storage.lock(f"brief:{brief_id}"):
            record = await self.get(team_id, brief_id)
            if record.get("status") == PUBLISHED:
                raise Conflict("this brief is published and can no longer change",
                               error="brief-published")  # fmt: skip
            if text is not None:
                if len(text) > MAX_TEXT:
                    raise ValidationError(f"the text is longer than {MAX_TEXT} characters",
                                          error="text-too-long", field="text")  # fmt: skip
                record["text"] = text
            added = list(record.get("added") or [])
            known_added = {a["id"] for a in added}
            current = {r["id"] for r in preview(record).replacements}
            undone = [u for u in record.get("undone") or [] if u not in set(redo)]
            for rid in undo:
                if rid in known_added:  # undoing an added rule takes it away entirely
                    added = [a for a in added if a["id"] != rid]
                    known_added.discard(rid)
                elif rid in current:
                    undone.append(rid)
                else:
                    raise NotFound(
                        f"no replacement {rid!r} in this brief",
                        error="unknown-replacement",
                        field="replacements.undo",
                    )
            for original, replacement in add:
                if not original.strip():
                    raise ValidationError("say which text to replace", error="empty-original",
                                          field="replacements.add")  # fmt: skip
                rule = an.Added(an.added_id(original), original.strip(),
                                replacement.strip() or "a colleague")  # fmt: skip
                added = [a for a in added if a["id"] != rule.id] + [rule.to_dict()]
            if len(added) > an.MAX_ADDED:
                raise ValidationError(f"a brief takes at most {an.MAX_ADDED} added replacements",
                                      error="too-many-replacements")  # fmt: skip
            record["added"] = added
            record["undone"] = list(dict.fromkeys(undone))
            # Someone added to the directory since, or an edit naming a new attendee:
            # the people are looked up again, so the preview catches them too.
            reviews = list(dict.fromkeys(str(r).split(":", 1)[0] for r in record["refs"]))
            fresh = await self.people(team_id, reviews)
            record["people"] = _people_record(_merged(people_from(record["people"]), fresh))
            record["updated_ms"] = now_ms()
            await self.storage.put_record(LEARNING_BRIEF, brief_id, record, team_id)
            return record

    async def publish(self, team_id: str, brief_id: str, by: str = "") -> dict[str, Any]:
        async with self.storage.lock(f"brief:{brief_id}"):
            record = await self.get(team_id, brief_id)
            if record.get("status") == PUBLISHED:
                raise Conflict("this brief is already published", error="brief-published")
            record["published_text"] = preview(record).text
            record["published_title"] = title_of(record)
            record["status"] = PUBLISHED
            record["published_ms"] = record["updated_ms"] = now_ms()
            record["published_by"] = by
            await self.storage.put_record(LEARNING_BRIEF, brief_id, record, team_id)
            return record


def _merged(old: an.People, new: an.People) -> an.People:
    for person in new:
        old.add(person.name, person.role)
        for email in person.emails:
            old.add(person.name, person.role, email=email)
        for handle in person.handles:
            old.add(person.name, person.role, handle=handle)
    return old


def export_text(record: dict[str, Any]) -> tuple[str, str]:
    """(title, anonymised Markdown): as published, or the draft's current preview."""
    if record.get("status") == PUBLISHED:
        return str(record.get("published_title") or "Learning brief"), str(
            record.get("published_text") or ""
        )
    return title_of(record), preview(record).text
