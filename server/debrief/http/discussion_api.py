"""The discuss step (moderator) and comments on the theme at hand (attendees)."""

from __future__ import annotations

import secrets
from typing import Any

from pycrdt import Doc, Map
from pydantic import BaseModel, ConfigDict, Field

from debrief.auth.roles import DocName
from debrief.http.commands import ATTENDEES, MODERATOR, Call, CommandSet
from debrief.meeting import discussion as ds
from debrief.meeting import docdata as dd
from debrief.meeting import timer as tm
from debrief.meeting.errors import Conflict, Forbidden, NotFound
from debrief.meeting.note_view import SECTIONS
from debrief.meeting.service import meeting_state, now_ms
from debrief.meeting.values import clean_text

api = CommandSet("discussion")


class StartDiscussion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    section: str = Field(default="contributing-factor", max_length=40)
    minutes: int = Field(default=ds.DEFAULT_MINUTES, ge=1, le=60, description="per theme")


class NewComment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4 * ds.MAX_COMMENT)


def _time_box(doc: Doc, minutes: int) -> None:
    """Start the shared timer on this theme's time box."""
    box = minutes * 60_000
    doc.get("meeting", type=Map)["timer"] = tm.start(tm.reset(box), now_ms(), box).to_dict()


@api.command("POST", "/discussion/start", "Discuss the voted themes of a section in order "
             "of votes, each with its own time box on the timer", roles=MODERATOR,
             body=StartDiscussion)  # fmt: skip
async def start_discussion(call: Call, body: StartDiscussion) -> Any:
    if body.section not in SECTIONS:
        raise Conflict(f"unknown section {body.section!r}", error="unknown-section")
    await call.meeting.writable_review(call.review_id)

    def change(doc: Doc) -> dict[str, Any]:
        themes = dict(dd.entries(doc.get("themes", type=Map)))
        votes = doc.get("votes", type=Map).to_py() or {}
        state = ds.start(themes, votes, body.section, body.minutes)
        doc.get("meeting", type=Map)["discussion"] = state
        _time_box(doc, body.minutes)
        return state

    return {"discussion": await call.meeting.edit_returning(call.review_id, DocName.ROOM, change)}


@api.command("POST", "/discussion/next", "On to the next theme (past the last: the end)",
             roles=MODERATOR)  # fmt: skip
async def next_theme(call: Call, body: None) -> Any:
    await call.meeting.writable_review(call.review_id)

    def change(doc: Doc) -> dict[str, Any]:
        state = ds.advance(ds.state_of(meeting_state(doc)))
        doc.get("meeting", type=Map)["discussion"] = state
        if state["active"]:
            _time_box(doc, state["minutes"])
        return state

    return {"discussion": await call.meeting.edit_returning(call.review_id, DocName.ROOM, change)}


@api.command("POST", "/discussion/end", "End the discuss step", roles=MODERATOR)
async def end_discussion(call: Call, body: None) -> Any:
    await call.meeting.writable_review(call.review_id)

    def change(doc: Doc) -> dict[str, Any]:
        state = {**ds.state_of(meeting_state(doc)), "active": False}
        doc.get("meeting", type=Map)["discussion"] = state
        return state

    return {"discussion": await call.meeting.edit_returning(call.review_id, DocName.ROOM, change)}


@api.command("POST", "/themes/{theme_id}/comments", "Comment on a theme (shown without a "
             "name, together with others' changes)", roles=ATTENDEES, body=NewComment,
             status=201)  # fmt: skip
async def comment(call: Call, body: NewComment) -> Any:
    theme_id = call.request.path_params["theme_id"]
    text = clean_text(body.text, "text", max_len=ds.MAX_COMMENT, min_len=1)
    storage = call.svc.storage
    async with call.meeting.lock(call.review_id):
        await call.meeting.writable_review(call.review_id)
        themes = await call.meeting.read(
            call.review_id, DocName.ROOM, lambda d: list(d.get("themes", type=Map).keys())
        )
        if theme_id not in themes:
            raise NotFound("there is no such theme", error="unknown-theme")
        held = await storage.list_records(ds.COMMENT, call.review_id)
        if len(held) >= ds.MAX_COMMENTS_PER_REVIEW:
            raise Conflict("this review holds no more comments", error="comments-full")
        record = {
            "id": "cm_" + secrets.token_urlsafe(9),
            "review_id": call.review_id,
            "theme_id": theme_id,
            "owner": call.participant_id,
            "text": text,
            "created_ms": now_ms(),
        }
        await storage.put_record(ds.COMMENT, record["id"], record, call.review_id)
        call.meeting.held.hold(call.review_id, call.participant_id, comments={record["id"]})
    return {**ds.public_comment(record), "yours": True}


@api.command("DELETE", "/comments/{comment_id}", "Delete your own comment", roles=ATTENDEES)
async def delete_comment(call: Call, body: None) -> Any:
    comment_id = call.request.path_params["comment_id"]
    storage = call.svc.storage
    async with call.meeting.lock(call.review_id):
        await call.meeting.writable_review(call.review_id)
        record = await storage.get_record(ds.COMMENT, comment_id)
        if record is None or record.get("review_id") != call.review_id:
            raise NotFound("there is no such comment", error="unknown-comment")
        if record.get("owner") != call.participant_id:
            raise Forbidden("you may delete only your own comments", error="not-yours")
        await storage.delete_record(ds.COMMENT, comment_id)
        call.meeting.held.hold(call.review_id, call.participant_id, comments={comment_id})
    return {"deleted": comment_id}
