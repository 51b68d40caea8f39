"""What helps the moderator run the meeting: prompts for the phase at hand, and a
parking lot for topics that matter but are off this review's scope."""

from __future__ import annotations

import secrets
from typing import Any

from pycrdt import Doc, Map
from pydantic import BaseModel, ConfigDict, Field

from debrief.auth.roles import DocName
from debrief.http.commands import ALL, ATTENDEES, MODERATOR, Call, CommandSet
from debrief.meeting.errors import Conflict, NotFound
from debrief.meeting.parking import MAX_PARKED, MAX_PARKED_TEXT, PARKING_LOT, read_parked
from debrief.meeting.service import now_ms
from debrief.meeting.texts import PHASE_HINTS, TIMELINE_QUESTIONS
from debrief.meeting.values import clean_text

api = CommandSet("facilitation")


class ParkTopic(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4 * MAX_PARKED_TEXT)


@api.command("GET", "/prompts", "Facilitator prompts: a hint per phase, questions for the "
             "timeline walk-through that open the process up", roles=MODERATOR)  # fmt: skip
async def prompts(call: Call, body: None) -> Any:
    return {"phase_hints": PHASE_HINTS, "timeline_questions": list(TIMELINE_QUESTIONS)}


@api.command("POST", "/parking-lot", "Park a topic that is off this review's scope",
             roles=ATTENDEES, body=ParkTopic, status=201)  # fmt: skip
async def park(call: Call, body: ParkTopic) -> Any:
    await call.meeting.writable_review(call.review_id)
    topic = {
        "id": "pk_" + secrets.token_urlsafe(9),
        "text": clean_text(body.text, "text", max_len=MAX_PARKED_TEXT, min_len=1),
        "created_ms": now_ms(),
    }

    def change(doc: Doc) -> None:
        parked = doc.get(PARKING_LOT, type=Map)
        if len(parked) >= MAX_PARKED:
            raise Conflict(f"the parking lot holds at most {MAX_PARKED} topics",
                           error="parking-lot-full")  # fmt: skip
        parked[topic["id"]] = topic

    await call.meeting.edit(call.review_id, DocName.ROOM, change)
    return topic


@api.command("DELETE", "/parking-lot/{topic_id}", "Take a topic off the parking lot",
             roles=MODERATOR)  # fmt: skip
async def unpark(call: Call, body: None) -> Any:
    await call.meeting.writable_review(call.review_id)
    topic_id = call.request.path_params["topic_id"]

    def change(doc: Doc) -> None:
        parked = doc.get(PARKING_LOT, type=Map)
        if topic_id not in parked:
            raise NotFound("there is no such topic in the parking lot", error="unknown-topic")
        del parked[topic_id]

    await call.meeting.edit(call.review_id, DocName.ROOM, change)
    return {"deleted": topic_id}


@api.command("GET", "/parking-lot", "The parked topics, oldest first", roles=ALL)
async def parked(call: Call, body: None) -> Any:
    return {"topics": await call.meeting.read(call.review_id, DocName.ROOM, read_parked)}
