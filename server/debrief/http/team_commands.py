"""The frame every team command runs in: team session, CSRF check, team, role, body.

Like http/commands.py for reviews, under /api/teams/{team_id}: rate limits per address
and per session, a Bearer token or the debrief_team_<team id> cookie (with the
same-origin check for changes), 401 without a team session, 403 for a session of
another team or a role that may not ("admin" may do everything a "member" may). A
review's session token is never a team's (another signing salt), so it gets a 401.
A team's API token (teams/tokens.py, `Bearer dbt_...`) is accepted too, as a member
limited by its scope: "read" calls member GET routes, "write" also the few routes in
TOKEN_WRITES; no token reaches an admin route except those.
Commands also become OpenAPI operations (http/openapi.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from debrief.http.api import bearer_token
from debrief.http.commands import (
    answer,
    command_body,
    limited_session,
    or_unauthenticated,
    refuse_cross_site,
)
from debrief.http.errors import ApiError
from debrief.services import Services, services
from debrief.teams.service import ADMIN, MEMBER, TeamService, TeamSession, role_allows, team_cookie
from debrief.teams.tokens import ApiTokens, looks_like_token

ADMINS = (ADMIN,)
MEMBERS = (MEMBER,)  # and admins: an admin may do what a member may
TEAM_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]
# What a "write" API token may do besides reading: (method, path) of the team commands.
TOKEN_WRITES = {
    ("POST", "/api/teams/{team_id}/reviews"),
    ("POST", "/api/teams/{team_id}/actions/{gid}/status"),
}


@dataclass
class TokenSession(TeamSession):
    """A request made with an API token: a member named "API token <name>"."""

    scope: str = "read"


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


def token_scope(command: TeamCommand) -> str | None:
    """The least API token scope that may call ``command``; None: no token may."""
    if command.method == "GET" and MEMBER in command.roles:
        return "read"
    if (command.method, command.path) in TOKEN_WRITES:
        return "write"
    return None


def token_may(command: TeamCommand, scope: str) -> bool:
    needed = token_scope(command)
    return needed == "read" or (needed == "write" and scope == "write")


async def authenticate_api_token(svc: Services, token: str) -> TokenSession:
    found = await or_unauthenticated(ApiTokens(svc.storage).authenticate(token))
    return TokenSession(
        session_id=f"api-token:{found.id}",
        team_id=found.team_id,
        role=MEMBER,
        name=f"API token {found.name}",
        link="",
        created_ms=0,
        scope=found.scope,
    )


async def authenticate_team(svc: Services, request: Request, team_id: str) -> TeamSession:
    token = bearer_token(request)
    if token is not None and looks_like_token(token):
        return await authenticate_api_token(svc, token)
    if token is None:
        token = refuse_cross_site(svc, request, request.cookies.get(team_cookie(team_id)))
    return await or_unauthenticated(svc.teams.authenticate(token))


def team_endpoint(command: TeamCommand) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        svc = services(request)
        team_id = request.path_params["team_id"]
        session = await limited_session(request, lambda: authenticate_team(svc, request, team_id))
        if isinstance(session, Response):
            return session
        await svc.teams.team(team_id)  # 404 for an unknown team
        if session.team_id != team_id:
            raise ApiError(403, "other-team", "this session belongs to another team")
        if isinstance(session, TokenSession):
            if not token_may(command, session.scope):
                raise ApiError(
                    403,
                    "token-scope",
                    f"a {session.scope} API token cannot do this; a team admin can",
                )
        elif not role_allows(session.role, command.roles):
            raise ApiError(
                403, "forbidden", f"a team {session.role} cannot do this; ask a team admin"
            )
        body = await command_body(request, command.body)
        result = await command.handler(TeamCall(request, svc, session, team_id), body)
        return answer(result, command.status)

    run.__name__ = command.handler.__name__
    return run
