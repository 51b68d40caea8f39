"""The frame every meeting command runs in: session, CSRF check, review, role, body.

A route module declares its commands on a `CommandSet`; each becomes a Starlette
route and an OpenAPI operation (http/openapi.py), so the schema cannot drift from
what is served. Handlers get a `Call` and the parsed body and return JSON-ready data
or a ready Response.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel
from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from debrief.auth.roles import Role
from debrief.auth.sessions import SESSION, AuthError, Session
from debrief.http.api import bearer_token, cookie_token
from debrief.http.errors import ApiError, read_body
from debrief.http.json_response import FastJSONResponse
from debrief.http.meeting_access import meeting_service
from debrief.http.ratelimit import peer_ip, rate_limits
from debrief.meeting.service import (
    REVIEW,
    GateHeld,
    MeetingService,
    closed_refusal,
    gate_held,
    is_frozen,
)
from debrief.services import Services, services

ALL = tuple(Role)
ATTENDEES = (Role.MODERATOR, Role.SCRIBE, Role.PARTICIPANT)  # everyone but observers
MODERATOR = (Role.MODERATOR,)
RECAP_WRITERS = (Role.MODERATOR, Role.SCRIBE)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


@dataclass
class Call:
    """One authenticated, role-checked request to a review."""

    request: Request
    svc: Services
    meeting: MeetingService
    session: Session
    review_id: str
    review: dict[str, Any]  # as the endpoint read it, once per request

    def writable_review(self) -> dict[str, Any]:
        """The review read for this request, refusing (409) when it is closed. An early
        refusal only: a change that must not land after a close checks again under the
        review's lock (or in `MeetingService.edit`)."""
        if is_frozen(self.review):
            raise closed_refusal()
        return self.review

    @property
    def role(self) -> Role:
        return self.session.role

    @property
    def participant_id(self) -> str:
        return self.session.participant_id


Handler = Callable[[Call, Any], Awaitable[Any]]


@dataclass
class Command:
    method: str
    path: str
    handler: Handler
    summary: str
    roles: tuple[Role, ...]
    body: type[BaseModel] | None = None
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)  # name -> description
    response: str = "application/json"
    exclusive: bool = False  # runs alone on its review, taking the gate itself (close)


class CommandSet:
    """Commands of one route module, all under /api/reviews/{review_id}."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.commands: list[Command] = []

    def command(
        self,
        method: str,
        path: str,
        summary: str,
        *,
        roles: tuple[Role, ...] = ALL,
        body: type[BaseModel] | None = None,
        status: int = 200,
        query: dict[str, str] | None = None,
        response: str = "application/json",
        exclusive: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands.append(
                Command(
                    method,
                    "/api/reviews/{review_id}" + path,
                    handler,
                    summary,
                    roles,
                    body,
                    status,
                    dict(query or {}),
                    response,
                    exclusive,
                )
            )
            return handler

        return register

    def routes(self) -> list[Route]:
        return [Route(c.path, endpoint(c), methods=[c.method]) for c in self.commands]


REVIEW_PATH = "/api/reviews/{review_id}"
_CHOSEN = "debrief.command_route"  # scope key: the route CommandRoutes matched


def route_path(scope: Scope) -> str:
    """The request path below the app's ``root_path`` (what routes match against).
    Starlette has this only as a private helper, which a minor release may move."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


class CommandRoutes(Mount):
    """Every command route (all under /api/reviews/{review_id}) as one route that finds
    the few sharing the path's next segment in a dict: Starlette's router tries its
    routes one by one, ~140 regular expressions before a command otherwise. A Mount of
    the routes (as listed, e.g. for the schema); the matching is its own."""

    def __init__(self, routes: list[Route]) -> None:
        super().__init__(REVIEW_PATH, routes=routes)
        self._by_segment: dict[str, list[Route]] = {}
        for route in routes:
            if not route.path.startswith(REVIEW_PATH):
                raise ValueError(f"{route.path} is not a command path")
            segment = route.path[len(REVIEW_PATH) :].lstrip("/").split("/", 1)[0]
            if segment.startswith("{"):
                raise ValueError(f"{route.path}: a command's first segment must be literal")
            self._by_segment.setdefault(segment, []).append(route)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        parts = route_path(scope).split("/", 5)  # "", api, reviews, id, segment, ...
        if parts[1:3] != ["api", "reviews"] or len(parts) < 4:
            return Match.NONE, {}
        found: tuple[Match, Scope] = (Match.NONE, {})
        for route in self._by_segment.get(parts[4] if len(parts) > 4 else "", ()):
            match, child = route.matches(scope)
            if match is Match.FULL:
                return match, {**child, _CHOSEN: route}
            if match is Match.PARTIAL and found[0] is Match.NONE:  # wrong method: 405
                found = (match, {**child, _CHOSEN: route})
        return found

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await chosen_route(scope).handle(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self.routes:  # absolute paths: not the Mount's own joining
            with contextlib.suppress(NoMatchFound):
                return route.url_path_for(name, **path_params)
        raise NoMatchFound(name, path_params)


def chosen_route(scope: Scope) -> Route:
    """The command route `CommandRoutes.matches` found for this request."""
    route: Route = scope[_CHOSEN]
    return route


def same_origin(svc: Services, request: Request) -> bool:
    """Whether a browser request comes from our own pages (Origin, else Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return False  # a cookie-carrying state change with neither header: refuse
    parts = urlsplit(source)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin in svc.settings.allowed_origins or origin == svc.settings.public_url:
        return True
    return parts.netloc == request.headers.get("host")


def refuse_cross_site(svc: Services, request: Request, cookie: str | None) -> str | None:
    """The cookie's token, unless the request changes something from another site."""
    # Cookies ride along on cross-site requests; bearer tokens never do.
    if cookie and request.method not in SAFE_METHODS and not same_origin(svc, request):
        raise ApiError(403, "cross-origin", "this request must come from the Debrief app")
    return cookie


T = TypeVar("T")


async def or_unauthenticated(check: Awaitable[T]) -> T:
    """What ``check`` finds, its AuthError made a 401."""
    try:
        return await check
    except AuthError as exc:
        raise ApiError(401, "unauthenticated", str(exc)) from exc


class HasSessionId(Protocol):
    @property
    def session_id(self) -> str: ...


S = TypeVar("S", bound=HasSessionId)


async def limited_session(
    request: Request, authenticate: Callable[[], Awaitable[S]]
) -> S | Response:
    """The caller's session, or the rate limit's refusal: per address before the session
    is even looked at, then per session."""
    limits = rate_limits(request)
    refused = limits.command_from(peer_ip(request))
    if refused is not None:
        return refused.response()
    session = await authenticate()
    refused = limits.command_by(session.session_id)
    if refused is not None:
        return refused.response()
    return session


async def command_body(request: Request, model: type[BaseModel] | None) -> Any:
    return await read_body(request, model) if model is not None else None


def answer(result: Any, status: int) -> Response:
    """A handler's ready Response as it is, else its data as JSON."""
    if isinstance(result, Response):
        return result
    return FastJSONResponse(result, status_code=status)


@dataclass(slots=True)
class Admitted:
    """The caller's session and the review it names, read in one storage call."""

    session: Session
    review_record: dict[str, Any] | None

    @property
    def session_id(self) -> str:
        return self.session.session_id


async def admit(svc: Services, request: Request, review_id: str) -> Admitted:
    """Authenticate the caller (401 as ApiError) and read the review with its session."""
    token = bearer_token(request)
    if token is None:
        token = refuse_cross_site(svc, request, cookie_token(request.cookies, review_id))
    sessions = svc.sessions
    try:
        session_id = sessions.session_id(token)
        session_record, review_record = await svc.storage.get_records(
            [(SESSION, session_id), (REVIEW, review_id)]
        )
        session = sessions.session_from(session_record)
    except AuthError as exc:
        raise ApiError(401, "unauthenticated", str(exc)) from exc
    return Admitted(session, review_record)


def takes_gate(command: Command) -> bool:
    """Changes share the review's gate and close takes it alone, so a command is either
    done before a close or sees the closed review (409); reads need no gate. An
    exclusive command takes the gate itself (closing.close), at the right moment."""
    return not (command.exclusive or command.method in SAFE_METHODS)


async def gated(call: Call, read_at: int, handler: Handler, body: Any) -> Any:
    """Run ``handler`` holding the review's gate (shared). The review was read before it,
    when the gate had seen ``read_at`` exclusive sections: read again only if a close may
    have run since. Inside, the handler's checks trust that read (GateHeld)."""
    meeting = call.meeting
    async with meeting.gate.shared(call.review_id):
        if meeting.gate.exclusive_runs != read_at:
            call.review = await meeting.review(call.review_id)
        held = GateHeld(call.review_id, call.review)
        token = gate_held.set(held)
        try:
            return await handler(call, body)
        finally:
            held.live = False
            gate_held.reset(token)


def endpoint(command: Command) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        svc = services(request)
        review_id = request.path_params["review_id"]
        meeting = meeting_service(request)
        read_at = meeting.gate.exclusive_runs
        admitted = await limited_session(request, lambda: admit(svc, request, review_id))
        if isinstance(admitted, Response):
            return admitted
        session = admitted.session
        review = await meeting.review_from(review_id, admitted.review_record)  # 404: unknown
        if session.review_id != review_id:
            raise ApiError(403, "other-review", "this session belongs to another review")
        if session.role not in command.roles:
            allowed = ", ".join(str(r) for r in command.roles)
            raise ApiError(
                403, "forbidden", f"a {session.role} cannot do this; it needs: {allowed}"
            )
        body = await command_body(request, command.body)
        call = Call(request, svc, meeting, session, review_id, review)
        if takes_gate(command):
            result = await gated(call, read_at, command.handler, body)
        else:
            result = await command.handler(call, body)
        return answer(result, command.status)

    run.__name__ = command.handler.__name__
    return run
