"""ELMO, hands, attendees and leaders, round-robin turns, sign-off."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map
from pydantic import BaseModel, ConfigDict, Field

from debrief.auth.roles import DocName
from debrief.auth.sessions import SESSION
from debrief.http.commands import ALL, ATTENDEES, MODERATOR, Call, CommandSet
from debrief.meeting import floor, signoffs
from debrief.meeting.errors import Forbidden, NotFound
from debrief.meeting.service import SIGNOFF, meeting_state, now_ms

api = CommandSet("floor")


class LowerHand(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Moderator only: lower someone else's hand. Participant ids are "p_" + 16 hex.
    participant_id: str | None = Field(default=None, max_length=64)


class LeaderMark(BaseModel):
    model_config = ConfigDict(extra="forbid")
    leader: bool


async def set_meeting(call: Call, key: str, compute: Any) -> Any:
    """Replace `room.meeting[key]` with `compute(current_state)` (validated first)."""
    await call.meeting.writable_review(call.review_id)

    def change(doc: Doc) -> Any:
        value = compute(meeting_state(doc))
        doc.get("meeting", type=Map)[key] = value
        return value

    return await call.meeting.edit_returning(call.review_id, DocName.ROOM, change)


@api.command("POST", "/elmo", "Call ELMO: enough, let's move on (no identity attached)",
             roles=ATTENDEES)  # fmt: skip
async def call_elmo(call: Call, body: None) -> Any:
    def bump(state: dict[str, Any]) -> dict[str, Any]:
        return {"count": int(state["elmo"].get("count") or 0) + 1, "last_ms": now_ms()}

    elmo = await set_meeting(call, "elmo", bump)
    return {"elmo": elmo}


@api.command("POST", "/hands/raise", "Raise your hand (joins the queue)", roles=ATTENDEES)
async def raise_hand(call: Call, body: None) -> Any:
    hands = await set_meeting(
        call,
        "hands",
        lambda s: floor.raise_hand(s["hands"], call.participant_id, call.session.name, now_ms()),
    )
    return {"hands": hands}


@api.command("POST", "/hands/lower", "Lower your hand (the moderator may lower anyone's)",
             roles=ATTENDEES, body=LowerHand)  # fmt: skip
async def lower_hand(call: Call, body: LowerHand) -> Any:
    target = body.participant_id or call.participant_id
    if target != call.participant_id and call.role not in MODERATOR:
        raise Forbidden("only the moderator can lower someone else's hand")
    hands = await set_meeting(call, "hands", lambda s: floor.lower_hand(s["hands"], target))
    return {"hands": hands}


async def current_attendees(call: Call) -> list[dict[str, Any]]:
    state = await call.meeting.meeting(call.review_id)
    sessions = await call.svc.storage.list_records(SESSION, call.review_id)
    return floor.attendees(sessions, state["leaders"])


@api.command("GET", "/attendees", "Who joined (names and roles; observers not listed)",
             roles=ALL)  # fmt: skip
async def list_attendees(call: Call, body: None) -> Any:
    return {"attendees": await current_attendees(call)}


@api.command("PUT", "/attendees/{participant_id}/leader",
             "Mark or unmark an attendee as a leader (speaks last when set)",
             roles=MODERATOR, body=LeaderMark)  # fmt: skip
async def mark_leader(call: Call, body: LeaderMark) -> Any:
    pid = call.request.path_params["participant_id"]
    if all(a["participant_id"] != pid for a in await current_attendees(call)):
        raise NotFound("no attendee with this id has joined", error="unknown-attendee")

    def compute(state: dict[str, Any]) -> list[str]:
        others = [p for p in state["leaders"] if p != pid]
        return [*others, pid] if body.leader else others

    return {"leaders": await set_meeting(call, "leaders", compute)}


@api.command("POST", "/round-robin/start", "Start a round-robin over the attendees",
             roles=MODERATOR)  # fmt: skip
async def round_start(call: Call, body: None) -> Any:
    review = await call.meeting.review(call.review_id)
    people = await current_attendees(call)
    order = floor.speaking_order(people, bool(review["settings"].get("leaders_last")))
    return {"speaking": await set_meeting(call, "speaking", lambda s: floor.start_round(order))}


@api.command("POST", "/round-robin/next", "Give the next attendee the turn", roles=MODERATOR)
async def round_next(call: Call, body: None) -> Any:
    speaking = await set_meeting(call, "speaking", lambda s: floor.advance(s["speaking"]))
    return {"speaking": speaking}


@api.command("POST", "/round-robin/skip", "Skip the current speaker", roles=MODERATOR)
async def round_skip(call: Call, body: None) -> Any:
    speaking = await set_meeting(
        call, "speaking", lambda s: floor.advance(s["speaking"], skip=True)
    )
    return {"speaking": speaking}


@api.command("POST", "/round-robin/end", "End the round-robin", roles=MODERATOR)
async def round_end(call: Call, body: None) -> Any:
    speaking = await set_meeting(call, "speaking", lambda s: floor.end_round(s["speaking"]))
    return {"speaking": speaking}


async def set_signoff(call: Call, signed: bool) -> Any:
    key = f"{call.review_id}:{call.participant_id}"
    async with call.meeting.lock(call.review_id):
        await call.meeting.writable_review(call.review_id)
        if signed:
            wording = await call.meeting.read(
                call.review_id, DocName.RECAP, signoffs.wording_fingerprint
            )
            record = {"at_ms": now_ms(), "wording": wording, "name": call.session.name}
            await call.svc.storage.put_record(SIGNOFF, key, record, call.review_id)
        elif not await call.svc.storage.delete_record(SIGNOFF, key):
            raise NotFound("you have not signed off", error="not-signed")
        count = await signoffs.refresh(call.meeting, call.review_id)
    return {"signoffs": count, "signed": signed, "current": signed}


@api.command("POST", "/signoff",
             "Confirm the recap wording as it reads now (once per attendee; signing again "
             "after the recap changed confirms the new wording)", roles=ATTENDEES)  # fmt: skip
async def sign_off(call: Call, body: None) -> Any:
    return await set_signoff(call, True)


@api.command("GET", "/signoff", "Whether you signed off, and whether on the current wording",
             roles=ATTENDEES)  # fmt: skip
async def my_signoff(call: Call, body: None) -> Any:
    record = await call.svc.storage.get_record(SIGNOFF, f"{call.review_id}:{call.participant_id}")
    if record is None:
        return {"signed": False, "current": False}
    wording = await call.meeting.read(call.review_id, DocName.RECAP, signoffs.wording_fingerprint)
    return {"signed": True, "current": record.get("wording") == wording}


@api.command("DELETE", "/signoff", "Withdraw your sign-off", roles=ATTENDEES)
async def withdraw_signoff(call: Call, body: None) -> Any:
    return await set_signoff(call, False)
