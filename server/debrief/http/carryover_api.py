"""The open-actions phase: earlier actions a review carries over, and what was said.

A review created in a team with ``carry_over`` ({"mode": "team"} or {"mode": "reviews",
"review_ids": [...]}) starts with the open-actions phase (meeting/agenda.py). Which
actions it walks is decided when they are shown, not when the review was created: each
listing gathers the pending actions (open, in progress, done and waiting for
verification) of the team's other reviews, or of the chosen ones, overdue first, from
the indexes and action records (never another review's docs), and carries in those
not carried yet. An action once carried stays in the list whatever its status becomes.

Where things are kept: meeting/carried.py. Status changes go through
POST .../follow-up/{gid}/status (http/followup_api.py), which lets this review's
moderator and scribe change an action it carries; teams/live.py shows every change in
the room doc of each live review that carries the action.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from debrief.auth.roles import DocName
from debrief.followup import action_status as st
from debrief.http.commands import ALL, RECAP_WRITERS, Call, CommandSet
from debrief.meeting import carried as cr
from debrief.meeting import docdata as dd
from debrief.meeting import review as rv
from debrief.meeting.errors import Conflict, NotFound, ValidationError
from debrief.meeting.service import REVIEW, now_ms
from debrief.meeting.values import clean_text
from debrief.storage.base import Storage
from debrief.teams import live
from debrief.teams.actions import review_url
from debrief.teams.keys import ACTION_STATE, PENDING_STATUSES, day_score, status_index, team_of

api = CommandSet("open-actions")

MAX_CHOSEN = 20  # reviews a carry-over may name


class CarryOver(BaseModel):
    """The body field ``carry_over`` of POST /api/teams/{t}/reviews."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["team", "reviews"] = Field(
        description="team: the pending actions of the team's other reviews; reviews: of "
        "the reviews named in review_ids"
    )
    review_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=MAX_CHOSEN
    )


async def carry_over_record(
    storage: Storage, team_id: str, carry: CarryOver | None
) -> dict[str, Any] | None:
    """What the review record keeps of a requested carry-over, after checking that every
    chosen review exists in this team (404 otherwise)."""
    if carry is None:
        return None
    if carry.mode == "team":
        return {"mode": "team"}
    chosen = list(dict.fromkeys(carry.review_ids))
    if not chosen:
        raise ValidationError("name at least one review to carry actions over from",
                              field="carry_over.review_ids")  # fmt: skip
    for review_id in chosen:
        found = await storage.get_record(REVIEW, review_id)
        if found is None or team_of(found) != team_id:
            raise NotFound(f"this team has no review {review_id!r}", error="unknown-review")
    return {"mode": "reviews", "review_ids": chosen}


class CarriedNote(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=4 * cr.MAX_NOTE, description="empty clears the note")


def today() -> date:
    return datetime.now(UTC).date()


def _walk_key(summary: dict[str, Any], when: date) -> tuple[int, float, str]:
    """Overdue first, then by due date (undated last)."""
    overdue = st.is_overdue(summary, when)
    return (0 if overdue else 1, day_score(str(summary.get("due") or "")), str(summary["gid"]))


async def pending_elsewhere(
    storage: Storage, review: dict[str, Any], when: date
) -> dict[str, dict[str, Any]]:
    """gid -> summary of the actions this review would carry now, in walk order."""
    carry = dd.record(review.get("carry_over")) or {}
    team_id, own = team_of(review), review["id"]
    found: list[dict[str, Any]] = []
    if carry.get("mode") == "reviews":
        for review_id in dd.texts(carry.get("review_ids"), MAX_CHOSEN, unique=True):
            for state in await storage.list_records(ACTION_STATE, review_id):
                if state.get("team_id") == team_id and state.get("status") in PENDING_STATUSES:
                    found.append(state)
    else:
        for status in PENDING_STATUSES:  # each index is by due date: overdue ones come first
            entries = await storage.index_range(
                status_index(team_id, status), limit=cr.MAX_CARRIED + 1
            )
            found += [e.data for e in entries]
    pending = [s for s in found if s.get("gid") and s.get("review_id") != own]
    pending.sort(key=lambda s: _walk_key(s, when))
    return {str(s["gid"]): s for s in pending[: cr.MAX_CARRIED]}


async def carry_in(call: Call, review: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Carry in what is pending now and not carried yet; the review's carried entries."""
    known = await call.meeting.read(call.review_id, DocName.RECAP, cr.entries)
    if rv.is_read_only(review) or len(known) >= cr.MAX_CARRIED:
        return known
    found = await pending_elsewhere(call.svc.storage, review, today())
    fresh = {gid: s for gid, s in found.items() if gid not in known}
    if not fresh:
        return known
    try:
        # a listing may write: it takes the review's gate like a command, so a close
        # either freezes the recap with these entries or refuses them (409, ignored)
        async with call.meeting.gate.shared(call.review_id):
            added = await call.meeting.edit_returning(
                call.review_id, DocName.RECAP, lambda d: cr.add_entries(d, fresh, now_ms())
            )
    except Conflict:
        return known
    await live.record_carried(call.svc.storage, call.review_id, added)
    return await call.meeting.read(call.review_id, DocName.RECAP, cr.entries)


def shown(entry: dict[str, Any], state: dict[str, Any] | None, when: date) -> dict[str, Any]:
    """A carried action as the phase lists it: as it stands now when its record is
    there, else as it was carried in (its review was deleted since)."""
    now = state or {}
    evidence = dd.record(now.get("evidence"))
    status = dd.text(now.get("status")) or entry["status"]
    return {
        "gid": entry["gid"],
        "review_id": entry["review_id"],
        "review_title": entry["review_title"],
        "review_url": review_url(entry["review_id"]),
        "what": dd.text(now.get("what")) or entry["what"],
        "owner": dd.text(now.get("owner")) or entry["owner"],
        "due": dd.text(now.get("due")) or entry["due"],
        "verify": dd.text(now.get("verify")),
        "kind": dd.text(now.get("kind")),
        "status": status,
        "status_carried": entry["status"],
        "overdue": st.is_overdue({"status": status, "due": entry["due"]}, when),
        "evidence": (
            {"url": dd.text(evidence.get("url")), "text": dd.text(evidence.get("text"))}
            if evidence
            else None
        ),
        "reason": dd.text(now.get("reason")),
        "verified_by": dd.text(now.get("verified_by")),
        "updated_ms": dd.count(now.get("updated_ms")),
        "note": entry["note"],
        "note_by": entry["note_by"],
        "gone": state is None,
    }


@api.command("GET", "/carried", "The earlier actions this review walks in its open-actions "
             "phase, with their status now and what was said", roles=ALL)  # fmt: skip
async def list_carried(call: Call, body: None) -> Any:
    review = await call.meeting.review(call.review_id)
    carry = dd.record(review.get("carry_over"))
    if not carry:
        return {"carry_over": None, "actions": []}
    carried = cr.in_order(await carry_in(call, review))
    when, storage = today(), call.svc.storage
    rows = [shown(e, await storage.get_record(ACTION_STATE, e["gid"]), when) for e in carried]
    if rows and not rv.is_read_only(review):
        # the room doc follows the records, also after a change it missed
        now = {r["gid"]: r["status"] for r in rows if not r["gone"]}
        await live.show_status(call.svc, call.review_id, now)
    return {"carry_over": dd.plain(carry), "actions": rows}


@api.command("POST", "/carried/{gid}/note", "Write down what was said about a carried "
             "action (kept in the recap)", roles=RECAP_WRITERS, body=CarriedNote)  # fmt: skip
async def note_carried(call: Call, body: CarriedNote) -> Any:
    gid = call.request.path_params["gid"]
    text = clean_text(body.text, "text", max_len=cr.MAX_NOTE)
    by = call.session.name
    await call.meeting.writable_review(call.review_id)
    written = await call.meeting.edit_returning(
        call.review_id, DocName.RECAP, lambda d: cr.set_note(d, gid, text, by)
    )
    if not written:
        raise NotFound("this review does not carry that action", error="not-carried")
    return {"gid": gid, "note": text, "note_by": by}
