"""The frame every team command runs in: team session, CSRF check, team, role, body.

Like http/commands.py for reviews, under /api/teams/{team_id}: rate limits per address
and per session, a Bearer token or the debrief_team_<team id> cookie (with the
same-origin check for changes), 401 without a team session, 403 for a session of
another team or a role that may not ("admin" may do everything a "member" may). A
review's session token is never a team's (another signing salt), so it gets a 401.
Commands also become OpenAPI operations (http/openapi.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from debrief.auth.sessions import AuthError
from debrief.http.api import bearer_token
from debrief.http.commands import SAFE_METHODS, same_origin
from debrief.http.errors import ApiError, read_body
from debrief.http.ratelimit import peer_ip, rate_limits
from debrief.services import Services, services
from debrief.teams.service import ADMIN, MEMBER, TeamService, TeamSession, role_allows, team_cookie

ADMINS = (ADMIN,)
MEMBERS = (MEMBER,)  # and admins: an admin may do what a member may
TEAM_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]


@dataclass
class TeamCall:
    """One authenticated, role-checked request to a team."""

    request: Request
    svc: Services
    session: TeamSession
    team_id: str

    @property
    def teams(self) -> TeamService:
        return self.svc.teams

    @property
    def role(self) -> str:
        return self.session.role

    @property
    def is_admin(self) -> bool:
        return self.session.role == ADMIN


TeamHandler = Callable[[TeamCall, Any], Awaitable[Any]]


@dataclass
class TeamCommand:
    """A team route; same attributes as a review `Command`, so the OpenAPI document
    describes both alike."""

    method: str
    path: str
    handler: TeamHandler
    summary: str
    roles: tuple[str, ...]
    body: type[BaseModel] | None = None
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)
    response: str = "application/json"

    @property
    def shown_roles(self) -> tuple[str, ...]:
        """Who may call it, spelled out (members' commands are admins' too)."""
        return (ADMIN, MEMBER) if MEMBER in self.roles else self.roles


class TeamCommandSet:
    """Commands of one route module, all under /api/teams/{team_id}."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.commands: list[TeamCommand] = []

    def command(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        roles: tuple[str, ...] = MEMBERS,
        body: type[BaseModel] | None = None,
        status: int = 200,
        query: dict[str, str] | None = None,
    ) -> Callable[[TeamHandler], TeamHandler]:
        def register(handler: TeamHandler) -> TeamHandler:
            self.commands.append(
                TeamCommand(
                    method,
                    "/api/teams/{team_id}" + path,
                    handler,
                    summary,
                    roles,
                    body,
                    status,
                    dict(query or {}),
                )
            )
            return handler

        return register

    def routes(self) -> list[Route]:
        return [Route(c.path, team_endpoint(c), methods=[c.method]) for c in self.commands]


async def authenticate_team(svc: Services, request: Request, team_id: str) -> TeamSession:
    token = bearer_token(request)
    if token is None:
        token = request.cookies.get(team_cookie(team_id))
        # Cookies ride along on cross-site requests; bearer tokens never do.
        if token and request.method not in SAFE_METHODS and not same_origin(svc, request):
            raise ApiError(403, "cross-origin", "this request must come from the Debrief app")
    try:
        return await svc.teams.authenticate(token)
    except AuthError as exc:
        raise ApiError(401, "unauthenticated", str(exc)) from exc


def team_endpoint(command: TeamCommand) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        svc = services(request)
        limits = rate_limits(request)
        refused = limits.command_from(peer_ip(request))
        if refused is not None:
            return refused.response()
        team_id = request.path_params["team_id"]
        session = await authenticate_team(svc, request, team_id)
        refused = limits.command_by(session.session_id)
        if refused is not None:
            return refused.response()
        await svc.teams.team(team_id)  # 404 for an unknown team
        if session.team_id != team_id:
            raise ApiError(403, "other-team", "this session belongs to another team")
        if not role_allows(session.role, command.roles):
            raise ApiError(
                403, "forbidden", f"a team {session.role} cannot do this; ask a team admin"
            )
        body = await read_body(request, command.body) if command.body is not None else None
        result = await command.handler(TeamCall(request, svc, session, team_id), body)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, status_code=command.status)

    run.__name__ = command.handler.__name__
    return run
