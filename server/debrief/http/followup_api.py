"""Actions after close over HTTP: an owner's personal link, a review's follow-up list and
status changes by its moderator or scribe, a team's action lists, and the indexing of a
review's actions when it closes.

Every status change, whatever the route, goes through ActionTracker.change_status (the
rules live in followup/action_status.py) and is then announced to the live reviews that
carry the action (teams/live.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from debrief.auth.roles import DocName
from debrief.followup import action_status as st
from debrief.http.commands import ALL, RECAP_WRITERS, Call, CommandSet
from debrief.http.errors import ApiError, read_body
from debrief.http.ratelimit import peer_ip, rate_limits
from debrief.http.team_commands import ADMINS, MEMBERS, TeamCall, TeamCommandSet, TokenSession
from debrief.meeting import closing
from debrief.meeting import review as rv
from debrief.services import Services, services
from debrief.teams import live
from debrief.teams.actions import DEFAULT_LIMIT, MAX_LIMIT, ActionTracker, review_url
from debrief.teams.keys import (
    DEFAULT_TEAM_NAME,
    PERSON,
    PERSON_LINK,
    TEAM,
    team_of,
)

api = CommandSet("follow-up")
team_api = TeamCommandSet("follow-up")

Status = Literal["open", "in-progress", "done", "verified", "wont-do"]


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(default="", max_length=st.MAX_EVIDENCE, description="an http(s) link")
    text: str = Field(default="", max_length=st.MAX_EVIDENCE)


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status
    evidence: Evidence | None = Field(
        default=None, description="needed for done: a link or a short text, or both"
    )
    reason: str = Field(default="", max_length=st.MAX_REASON, description="needed for wont-do")
    note: str = Field(default="", max_length=st.MAX_NOTE, description="progress, a comment")

    def change(self) -> st.Change:
        evidence = self.evidence or Evidence()
        return st.Change(self.status, evidence.url, evidence.text, self.reason, self.note)


def today() -> date:
    return datetime.now(UTC).date()


def tracker(svc: Services) -> ActionTracker:
    """A tracker that adds missing owners to the team directory."""
    return ActionTracker(svc.storage, svc.teams)


def listed(state: dict[str, Any], when: date) -> dict[str, Any]:
    """An action-state as lists show it: no history, its review's page, overdue or not."""
    return {
        **st.without_history(state),
        "review_url": review_url(str(state.get("review_id") or "")),
        "overdue": st.is_overdue(state, when),
    }


async def changed(svc: Services, gid: str, actor: st.Actor, body: StatusChange) -> Any:
    """Apply the change, tell the live reviews that carry the action, answer the state."""
    state = await tracker(svc).change_status(gid, actor, body.change())
    await live.status_changed(svc, state)
    return {**state, "review_url": review_url(state["review_id"]),
            "overdue": st.is_overdue(state, today())}  # fmt: skip


# --- closing ------------------------------------------------------------------------


async def index_review(call: Call) -> None:
    """Give every action of a just-closed review its state (open) and index entries.

    Runs after closing.close succeeded, and again on a retried close of a closed review
    (idempotent), so a failure here is repaired by closing again.
    """
    review = await call.meeting.review(call.review_id)
    if not rv.is_read_only(review):
        return
    actions = await call.meeting.read(call.review_id, DocName.RECAP, closing.read_actions)
    await tracker(call.svc).index_closed_review(review, actions, team_of(review))


# --- review-scoped (session of the review) -------------------------------------------


async def may_manage(call: Call, state: dict[str, Any]) -> bool:
    """Whether this review session may change the action's status: its moderator or
    scribe, for an action of this review or one this open review carries (teams/live.py)."""
    if call.role not in RECAP_WRITERS:
        return False
    gid, storage = str(state.get("gid") or ""), call.svc.storage
    return state.get("review_id") == call.review_id or await live.open_carrier(
        storage, call.review_id, gid
    )


@api.command("GET", "/follow-up",
             "The status of the review's actions since it closed (empty while it is open)",
             roles=ALL)  # fmt: skip
async def review_follow_up(call: Call, body: None) -> Any:
    review = await call.meeting.review(call.review_id)
    if not rv.is_read_only(review):
        return {"actions": []}
    when = today()
    return {"actions": [listed(s, when) for s in await tracker(call.svc).of_review(call.review_id)]}


@api.command("POST", "/follow-up/{gid}/status",
             "Change the status of an action of this review (or one carried into it)",
             roles=RECAP_WRITERS, body=StatusChange)  # fmt: skip
async def review_set_status(call: Call, body: StatusChange) -> Any:
    gid = call.request.path_params["gid"]
    state = await tracker(call.svc).get(gid)
    if not await may_manage(call, state):
        raise ApiError(
            403, "not-this-review", "this action belongs to a review your session is not part of"
        )
    actor = st.Actor(call.session.name, str(call.role))
    return await changed(call.svc, gid, actor, body)


# --- team-scoped (team session) ------------------------------------------------------


def _number(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        problem = [{"field": name, "problem": "must be a whole number"}]
        raise ApiError(422, "invalid-fields", problem) from None


@team_api.command("GET", "/actions",
                  "The team's actions by due date: pending, overdue, all or one status",
                  roles=MEMBERS,
                  query={"view": "pending (default: open, in-progress, done), overdue, all, "
                                 "or one status",
                         "person": "only this person's actions (a person id)",
                         "offset": "skip this many (default 0)",
                         "limit": f"at most this many (default {DEFAULT_LIMIT}, "
                                  f"at most {MAX_LIMIT})"})  # fmt: skip
async def team_actions(call: TeamCall, body: None) -> Any:
    query = call.request.query_params
    person_id = query.get("person", "")[:100]
    if person_id:
        person = await call.svc.storage.get_record(PERSON, person_id)
        if person is None or person.get("team_id") != call.team_id:
            raise ApiError(404, "unknown-person", "there is no such person in this team")
    page, total = await tracker(call.svc).list_team(
        call.team_id,
        query.get("view", "pending")[:40],
        person_id=person_id,
        offset=_number(call.request, "offset", 0),
        limit=_number(call.request, "limit", DEFAULT_LIMIT),
        today=today(),
    )
    return {"actions": page, "total": total}


@team_api.command("POST", "/actions/{gid}/status",
                  "Change the status of one of the team's actions (verify it, drop it, ...)",
                  roles=ADMINS, body=StatusChange)  # fmt: skip
async def team_set_status(call: TeamCall, body: StatusChange) -> Any:
    gid = call.request.path_params["gid"]
    state = await tracker(call.svc).get(gid)
    if state.get("team_id") != call.team_id:
        raise ApiError(404, "unknown-action", "this team has no such action")
    role = st.API_TOKEN if isinstance(call.session, TokenSession) else st.TEAM_ADMIN
    return await changed(call.svc, gid, st.Actor(call.session.name, role), body)


# --- personal link (the code is the secret; no session, no cookie) -------------------


async def _person(request: Request) -> tuple[Services, dict[str, Any], dict[str, Any]]:
    """The person whose personal link is in the path, and their team; 404 otherwise."""
    svc = services(request)
    code = request.path_params["code"]
    link = await svc.storage.get_record(PERSON_LINK, code) if len(code) <= 100 else None
    person = None
    if link is not None:
        person = await svc.storage.get_record(PERSON, str(link.get("person_id") or ""))
    if person is None or person.get("link") != code:  # a replaced link no longer opens
        rate_limits(request).bad_invite(peer_ip(request))  # guessing soon locks out
        raise ApiError(404, "link-invalid", "this personal link is unknown or was replaced")
    team_id = str(person.get("team_id") or "")
    team = await svc.storage.get_record(TEAM, team_id) or {"id": team_id}
    return svc, person, {"id": team_id, "name": team.get("name") or DEFAULT_TEAM_NAME}


async def _own_action(svc: Services, person: dict[str, Any], gid: str) -> dict[str, Any]:
    state = await tracker(svc).get(gid)
    if state.get("owner_id") != person["id"]:
        raise ApiError(403, "not-your-action", "this action is owned by someone else")
    return state


def _refused(request: Request) -> Response | None:
    """Counted like the review commands: per address, before anything is looked up, and
    refused while the address is locked out for guessing links."""
    limits, ip = rate_limits(request), peer_ip(request)
    refused = limits.guessing(ip) or limits.command_from(ip)
    return None if refused is None else refused.response()


async def person_page(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    svc, person, team = await _person(request)
    when = today()
    settled_offset = _query_int(request, "settled_offset")
    actions, settled_total = await tracker(svc).list_person(person["id"], when, settled_offset)
    return JSONResponse(
        {
            "person": {"id": person["id"], "name": person.get("name", "")},
            "team": team,
            "actions": actions,
            "overdue": sum(1 for a in actions if a["overdue"]),
            # settled actions (verified, won't do) come a page at a time, latest first
            "settled_total": settled_total,
            "settled_offset": settled_offset,
        }
    )


def _query_int(request: Request, name: str, most: int = 1_000_000) -> int:
    raw = request.query_params.get(name, "0")
    if not raw.isdigit() or len(raw) > 7:
        raise ApiError(422, "bad-query", f"{name} must be a whole number")
    return min(int(raw), most)


async def person_action(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    svc, person, _ = await _person(request)
    state = await _own_action(svc, person, request.path_params["gid"])
    return JSONResponse({**state, "review_url": review_url(state["review_id"]),
                         "overdue": st.is_overdue(state, today())})  # fmt: skip


async def person_set_status(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    svc, person, _ = await _person(request)
    body = await read_body(request, StatusChange)
    gid = request.path_params["gid"]
    await _own_action(svc, person, gid)
    actor = st.Actor(str(person.get("name") or ""), st.OWNER, person["id"])
    return JSONResponse(await changed(svc, gid, actor, body))


public_routes = [
    Route("/api/p/{code}", person_page, methods=["GET"]),
    Route("/api/p/{code}/actions/{gid}", person_action, methods=["GET"]),
    Route("/api/p/{code}/actions/{gid}/status", person_set_status, methods=["POST"]),
]
