"""Teams over HTTP: creating and joining a team, its links, its archive and its people.

Creating follows the rule of creating a review (open, or the admin token when the
server has one); joining trades a team link for a team session. Everything else is a
team command (http/team_commands.py): members read and add, admins administer.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from debrief.auth.names import MAX_NAME
from debrief.auth.roles import DocName, doc_key
from debrief.auth.sessions import AuthError
from debrief.followup import people as pp
from debrief.http.api import base_url, creation_refused, start_review, with_session_cookie
from debrief.http.carryover_api import CarryOver, carry_over_record
from debrief.http.errors import ApiError, read_body
from debrief.http.meeting_access import meeting_service
from debrief.http.ratelimit import peer_ip, rate_limits
from debrief.http.team_commands import ADMINS, TeamCall, TeamCommandSet
from debrief.http.themes_api import Covers, covers_record, plan_quarterly
from debrief.meeting.errors import NotFound
from debrief.meeting.review import MAX_TITLE
from debrief.meeting.review import STATUSES as REVIEW_STATUSES
from debrief.meeting.service import REVIEW
from debrief.services import Services, services
from debrief.teams.archive import MAX_LIMIT, ReviewQuery
from debrief.teams.keys import team_of
from debrief.teams.service import MAX_TEAM_NAME, team_cookie

api = TeamCommandSet("teams")
CLOSE_REVIEW_DELETED = 4404  # what a socket of a deleted review is closed with
MAX_QUERY = 200
MAX_OFFSET = 1_000_000


class CreateTeam(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=MAX_TEAM_NAME)


class JoinTeam(BaseModel):
    model_config = ConfigDict(extra="forbid")
    link: str = Field(min_length=1, max_length=500, description="a team link or its code")
    name: str = Field(default="", max_length=4 * MAX_NAME)


class RotateTeamLink(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "member"]


class NewTeamReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=MAX_TITLE)
    carry_over: CarryOver | None = None
    covers: Covers | None = Field(
        default=None, description="make it a quarterly review of these closed reviews"
    )


class ConfirmDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm: str = Field(max_length=4 * MAX_TITLE, description="the review's exact title")


class AddPerson(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=4 * pp.MAX_PERSON_NAME)
    email: str = Field(default="", max_length=pp.MAX_EMAIL)
    handle: str = Field(default="", max_length=pp.MAX_HANDLE)


class PersonPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=4 * pp.MAX_PERSON_NAME)
    email: str | None = Field(default=None, max_length=pp.MAX_EMAIL)
    handle: str | None = Field(default=None, max_length=pp.MAX_HANDLE)


def team_link_url(svc: Services, request: Request, code: str) -> str:
    return f"{base_url(svc, request)}/tj/{code}"


def person_link_url(svc: Services, request: Request, code: str) -> str:
    return f"{base_url(svc, request)}/p/{code}"


# --- creating and joining -------------------------------------------------------------


async def create_team(request: Request) -> Response:
    if (refused := creation_refused(request, "a team")) is not None:
        return refused
    svc = services(request)
    body = await read_body(request, CreateTeam)
    team, links = await svc.teams.create_team(body.name)
    urls = {role: team_link_url(svc, request, link["code"]) for role, link in links.items()}
    return JSONResponse({"id": team["id"], "name": team["name"], "links": urls}, 201)


async def join_team(request: Request) -> Response:
    svc = services(request)
    limits, ip = rate_limits(request), peer_ip(request)
    refused = limits.join(ip)
    if refused is not None:
        return refused.response()
    body = await read_body(request, JoinTeam)
    try:
        session, token = await svc.teams.join(body.link, body.name)
    except AuthError as exc:
        limits.bad_invite(ip)  # guessing link codes soon locks the guesser out
        raise ApiError(403, "link-invalid", str(exc)) from exc
    response = JSONResponse(
        {"token": token, "team_id": session.team_id, "role": session.role, "name": session.name}
    )
    return with_session_cookie(response, svc, team_cookie(session.team_id), token)


# Before the team commands: /api/teams/join must not read as a team id.
public_routes = [
    Route("/api/teams", create_team, methods=["POST"]),
    Route("/api/teams/join", join_team, methods=["POST"]),
]


# --- the team and its links -----------------------------------------------------------


@api.command("GET", "", "The team: its name, your role and counts of reviews and actions")
async def get_team(call: TeamCall, body: None) -> Any:
    team = await call.teams.team(call.team_id)
    return {
        "id": team["id"],
        "name": team["name"],
        "you": {"role": call.role, "name": call.session.name},
        "counts": await call.teams.counts(call.team_id),
    }


def link_view(call: TeamCall, link: dict[str, Any]) -> dict[str, Any]:
    return {**link, "url": team_link_url(call.svc, call.request, link["code"])}


@api.command("GET", "/links", "The team's links (admin)", roles=ADMINS)
async def list_links(call: TeamCall, body: None) -> Any:
    return {"links": [link_view(call, link) for link in await call.teams.links(call.team_id)]}


@api.command("POST", "/links/rotate", "Replace a role's team link; the old one's sessions end",
             roles=ADMINS, body=RotateTeamLink)  # fmt: skip
async def rotate_link(call: TeamCall, body: RotateTeamLink) -> Any:
    fresh, revoked, ended = await call.teams.rotate_link(call.team_id, body.role)
    return {
        "link": link_view(call, fresh),
        "revoked": revoked,
        "sessions_ended": len(ended),
        "your_session_ended": call.session.session_id in ended,
    }


@api.command("POST", "/links/{code}/revoke", "Revoke a team link; its sessions end",
             roles=ADMINS)  # fmt: skip
async def revoke_link(call: TeamCall, body: None) -> Any:
    code = call.request.path_params["code"]
    ended = await call.teams.revoke_link(call.team_id, code)
    return {"revoked": code, "sessions_ended": len(ended)}


# --- the archive ----------------------------------------------------------------------


def _query_int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(422, "invalid-query", f"{name} must be a whole number from {low} to {high}")
    return value


def _query_day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(422, "invalid-query", f"{name} must be a date like 2026-01-31") from exc


def review_query(request: Request) -> ReviewQuery:
    """The filters of GET .../reviews, checked."""
    params = request.query_params
    q = params.get("q") or ""
    status = params.get("status") or ""
    kind = params.get("kind") or ""
    if len(q) > MAX_QUERY:
        raise ApiError(422, "invalid-query", f"q is longer than {MAX_QUERY} characters")
    if status and status not in REVIEW_STATUSES:
        raise ApiError(422, "invalid-query", f"status must be one of: {', '.join(REVIEW_STATUSES)}")
    if len(kind) > 40:
        raise ApiError(422, "invalid-query", "kind is longer than 40 characters")
    since, until = (
        _query_day(params.get("since"), "since"),
        _query_day(params.get("until"), "until"),
    )
    if since and until and since > until:
        raise ApiError(422, "invalid-query", "since must not come after until")
    return ReviewQuery(
        q=q,
        status=status,
        kind=kind,
        since=since,
        until=until,
        offset=_query_int(params.get("offset"), "offset", 0, 0, MAX_OFFSET),
        limit=_query_int(params.get("limit"), "limit", 50, 1, MAX_LIMIT),
    )


REVIEW_FILTERS = {
    "q": "words to find in the title, the event or the question",
    "status": "draft, scheduled, live or closed",
    "kind": "the agenda template: incident, project-phase, launch, ...",
    "since": "created on or after this day (YYYY-MM-DD, UTC)",
    "until": "created on or before this day (YYYY-MM-DD, UTC)",
    "offset": "skip this many (default 0)",
    "limit": f"at most this many (1 to {MAX_LIMIT}, default 50)",
}


@api.command("GET", "/reviews", "The team's reviews, newest first; search and filter them",
             query=REVIEW_FILTERS)  # fmt: skip
async def list_reviews(call: TeamCall, body: None) -> Any:
    reviews, total = await call.teams.archive.list_reviews(call.team_id, review_query(call.request))
    return {"reviews": reviews, "total": total}


@api.command("POST", "/reviews", "Create a review in this team; answers its invite links",
             body=NewTeamReview, status=201)  # fmt: skip
async def create_team_review(call: TeamCall, body: NewTeamReview) -> Any:
    extra: dict[str, Any] = {"team_id": call.team_id}
    carry = await carry_over_record(call.svc.storage, call.team_id, body.carry_over)
    if carry is not None:
        extra["carry_over"] = carry
    if body.covers is not None:  # a quarterly review (scope kind "recurring pattern")
        extra["covers"] = await covers_record(call.svc.storage, call.team_id, body.covers)
    started = await start_review(call.request, body.title, extra)
    if body.covers is not None:
        await plan_quarterly(meeting_service(call.request), started["id"], call.team_id,
                             extra["covers"])  # fmt: skip
    return started


@api.command("DELETE", "/reviews/{review_id}", "Delete a review for good: docs, records, "
             "exports (admin; confirm with its exact title)", roles=ADMINS,
             body=ConfirmDelete)  # fmt: skip
async def delete_review(call: TeamCall, body: ConfirmDelete) -> Any:
    review_id = call.request.path_params["review_id"]
    storage = call.svc.storage
    review = await storage.get_record(REVIEW, review_id)
    listed = await call.teams.archive.summary(call.team_id, review_id)
    if review is not None and team_of(review) != call.team_id:
        review = None  # another team's review is not this team's to delete
        listed = None
    if review is None and listed is None:
        raise NotFound("this team has no review with this id", error="unknown-review")
    title = str((review or listed or {}).get("title", ""))
    if body.confirm != title:
        raise ApiError(400, "confirm-mismatch", "type the review's exact title to delete it")
    meeting = meeting_service(call.request)
    async with meeting.gate.exclusive(review_id), meeting.lock(review_id):
        meeting.held.take(review_id)  # held-back changes would write its docs again
        closed = close_review_sockets(call.svc, review_id)
        actions = await call.teams.delete_review(call.team_id, review_id)
    return {"deleted": review_id, "actions": actions, "sockets_closed": closed}


def close_review_sockets(svc: Services, review_id: str) -> int:
    """Close every socket of the review in this process, and keep its loaded rooms from
    writing anything back: a failed room skips its flush and compaction on unload."""
    closed = 0
    for doc in DocName:
        room = svc.rooms.rooms.get(doc_key(review_id, doc))
        if room is None:
            continue
        room.failed = room.failed or f"{room.key}: the review was deleted"
        for peer in list(room.peers):
            peer.close(CLOSE_REVIEW_DELETED, "this review was deleted")
            closed += 1
    return closed


# --- people ---------------------------------------------------------------------------


def person_view(call: TeamCall, person: dict[str, Any]) -> dict[str, Any]:
    """A person as the directory shows them; only admins see the personal link."""
    shown = {k: person.get(k, "") for k in ("id", "name", "email", "handle")}
    if call.is_admin and person.get("link"):
        shown["link"] = person_link_url(call.svc, call.request, str(person["link"]))
    return shown


@api.command("GET", "/people", "The team's people (admins also get each personal link)")
async def list_people(call: TeamCall, body: None) -> Any:
    people = await call.teams.people.people(call.team_id)
    return {"people": [person_view(call, p) for p in people]}


async def add_person_answer(add: Any, team_id: str, body: AddPerson, view: Any) -> JSONResponse:
    """201 with a new person; 200 with the existing one ("found") for a name already in
    the directory (the same name folded: case and spacing do not count)."""
    person, found = await add(team_id, body.name, body.email, body.handle)
    return JSONResponse({**view(person), "found": found}, status_code=200 if found else 201)


@api.command("POST", "/people", "Add a person (or find them: same name, 200)", body=AddPerson,
             status=201)  # fmt: skip
async def add_person(call: TeamCall, body: AddPerson) -> Any:
    return await add_person_answer(
        call.teams.people.add, call.team_id, body, lambda p: person_view(call, p)
    )


@api.command("PATCH", "/people/{person_id}", "Change a person's name, email or handle (admin)",
             roles=ADMINS, body=PersonPatch)  # fmt: skip
async def patch_person(call: TeamCall, body: PersonPatch) -> Any:
    person_id = call.request.path_params["person_id"]
    changed = await call.teams.people.patch(
        call.team_id, person_id, body.model_dump(exclude_unset=True)
    )
    return person_view(call, changed)


@api.command("POST", "/people/{person_id}/link", "Give a person a new personal link; the old "
             "one stops working (admin)", roles=ADMINS)  # fmt: skip
async def new_person_link(call: TeamCall, body: None) -> Any:
    person = await call.teams.people.new_link(call.team_id, call.request.path_params["person_id"])
    return {"url": person_link_url(call.svc, call.request, person["link"])}
