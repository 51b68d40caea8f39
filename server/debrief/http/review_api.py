"""Review fields, status and invite links (Prepare)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from debrief.auth.roles import Role
from debrief.auth.sessions import INVITE, Invite, new_code
from debrief.delivery import events as delivery_events
from debrief.http.api import base_url
from debrief.http.commands import ALL, MODERATOR, Call, CommandSet
from debrief.meeting import review as rv
from debrief.meeting.errors import Conflict, NotFound
from debrief.meeting.service import public_review

api = CommandSet("review")
CLOSE_SESSION_ENDED = 4401


class ReviewPatch(BaseModel):
    """Any subset of the editable fields; the domain validates their content.

    Left untyped here: meeting/review.py checks every length and count (before looping
    over a list), and the body limit (http/limits.py) bounds the whole.
    """

    model_config = ConfigDict(extra="forbid")
    title: Any = None
    scope: Any = None
    baseline_metrics: Any = None
    evidence_links: Any = None
    settings: Any = None
    questionnaire: Any = None
    schedule: Any = None
    attendees: Any = None
    recap_recipients: Any = None


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["draft", "scheduled", "live"] = Field(
        description="`closed` is reached through POST .../close"
    )


class RotateInvite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


def review_view(call: Call, review: dict[str, Any]) -> dict[str, Any]:
    you = {
        "role": str(call.role),
        "participant_id": call.participant_id,
        "name": call.session.name,
    }
    view = {**public_review(review), "created_ms": review.get("created_ms"), "you": you}
    if call.role in (Role.MODERATOR, Role.SCRIBE):  # addresses: not for every attendee's eyes
        view["recap_recipients"] = review.get("recap_recipients") or []
    return view


@api.command("GET", "", "Read the review's fields, status and your own role", roles=ALL)
async def get_review(call: Call, body: None) -> Any:
    return review_view(call, await call.meeting.review(call.review_id))


@api.command("PATCH", "", "Edit title, scope, metrics, links, settings, questionnaire",
             roles=MODERATOR, body=ReviewPatch)  # fmt: skip
async def patch_review(call: Call, body: ReviewPatch) -> Any:
    async with call.meeting.lock(call.review_id):
        review = await call.meeting.writable_review(call.review_id)
        patch = body.model_dump(exclude_unset=True)
        edited = rv.apply_review_patch(review, patch)
        await call.meeting.save_review(edited)
    await delivery_events.review_saved(call.svc, edited)  # invites, reminders' indexes
    return review_view(call, edited)


@api.command("POST", "/status", "Move the review to draft, scheduled or live",
             roles=MODERATOR, body=StatusChange)  # fmt: skip
async def change_status(call: Call, body: StatusChange) -> Any:
    async with call.meeting.lock(call.review_id):
        review = await call.meeting.writable_review(call.review_id)
        review = {**review, "status": rv.next_status(review["status"], body.status)}
        await call.meeting.save_review(review)
    await delivery_events.review_saved(call.svc, review)  # scheduled: the invites go out
    return review_view(call, review)


def invite_view(call: Call, invite: Invite) -> dict[str, Any]:
    url = f"{base_url(call.svc, call.request)}/j/{invite.code}"
    return {"code": invite.code, "role": str(invite.role), "revoked": invite.revoked, "url": url}


@api.command("GET", "/invites", "List the invite links (moderator)", roles=MODERATOR)
async def list_invites(call: Call, body: None) -> Any:
    invites = await call.svc.sessions.list_invites(call.review_id)
    return {"invites": [invite_view(call, i) for i in invites]}


async def end_sessions(call: Call, code: str) -> list[str]:
    """Revoke an invite; its sessions end and their sockets close with 4401."""
    ended = await call.svc.sessions.revoke_invite(code)
    for peer in call.svc.rooms.peers_of_sessions(set(ended)):
        peer.close(CLOSE_SESSION_ENDED, "the invite link was revoked: ask for a new one")
    return ended


async def own_invite(call: Call, code: str) -> Invite:
    record = await call.svc.storage.get_record(INVITE, code)
    if record is None or record.get("review_id") != call.review_id:
        raise NotFound("this review has no invite with that code", error="unknown-invite")
    return Invite.from_record(record)


@api.command("POST", "/invites/{code}/revoke", "Revoke an invite link; its sessions end",
             roles=MODERATOR)  # fmt: skip
async def revoke_invite(call: Call, body: None) -> Any:
    invite = await own_invite(call, call.request.path_params["code"])
    if invite.revoked:
        raise Conflict("this invite link is already revoked", error="already-revoked")
    ended = await end_sessions(call, invite.code)
    return {"revoked": invite.code, "sessions_ended": len(ended)}


@api.command("POST", "/invites/rotate", "Replace a role's invite link with a new one",
             roles=MODERATOR, body=RotateInvite)  # fmt: skip
async def rotate_invite(call: Call, body: RotateInvite) -> Any:
    fresh = Invite(new_code(), call.review_id, body.role)
    await call.svc.storage.put_record(INVITE, fresh.code, fresh.to_record(), call.review_id)
    ended: list[str] = []
    revoked = []
    for invite in await call.svc.sessions.list_invites(call.review_id):
        if invite.role == body.role and not invite.revoked and invite.code != fresh.code:
            ended += await end_sessions(call, invite.code)
            revoked.append(invite.code)
    # Rotating your own role's link ends your session too; the answer says so plainly.
    return {
        "invite": invite_view(call, fresh),
        "revoked": revoked,
        "sessions_ended": len(ended),
        "your_session_ended": call.session.session_id in ended,
    }
