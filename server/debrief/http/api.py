"""The JSON API of the sync core: reviews, joining, server time, health, metrics.

The meeting engine adds its commands under /api/reviews/{id}/... in its own module.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from debrief.auth.names import MAX_NAME
from debrief.auth.sessions import AuthError, ReviewFull, Seats
from debrief.http.errors import ApiError, read_body
from debrief.http.meeting_access import meeting_service
from debrief.http.ratelimit import peer_ip, rate_limits
from debrief.services import Services, services
from debrief.teams.keys import DEFAULT_TEAM_ID

# One cookie per review, so a browser holds any number of reviews at once; the single
# cookie of earlier versions is still read, so their sessions keep working.
LEGACY_SESSION_COOKIE = "debrief_session"


def session_cookie(review_id: str) -> str:
    """The name of the cookie that holds a browser's session for ``review_id``."""
    return f"{LEGACY_SESSION_COOKIE}_{review_id}"


def cookie_token(cookies: Mapping[str, str], review_id: str) -> str | None:
    """The session token this browser holds for ``review_id``, if any."""
    return cookies.get(session_cookie(review_id)) or cookies.get(LEGACY_SESSION_COOKIE)


REVIEW = "review"


class CreateReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)


class JoinReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invite: str = Field(min_length=1, max_length=500)
    # Raw length; the cleaned name (auth/names.py) is cut to MAX_NAME characters.
    name: str = Field(default="", max_length=4 * MAX_NAME)


def bearer_token(request: Request | Any) -> str | None:
    header: str = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def base_url(svc: Services, request: Request) -> str:
    return svc.settings.public_url or str(request.base_url).rstrip("/")


def creation_refused(request: Request, what: str) -> Response | None:
    """The rule for creating a review or a team: the per-address rate, and the admin token
    when the server has one (401 ApiError without it; a 429 answer when too fast)."""
    svc = services(request)
    refused = rate_limits(request).create(peer_ip(request))
    if refused is not None:
        return refused.response()
    admin = svc.settings.admin_token
    if admin and not secrets.compare_digest(bearer_token(request) or "", admin):
        raise ApiError(401, "admin-token-required", f"creating {what} needs the admin token")
    return None


async def create_review(request: Request) -> Response:
    if (refused := creation_refused(request, "a review")) is not None:
        return refused
    body = await read_body(request, CreateReview)
    # Reviews made without naming a team belong to the default one.
    created = await start_review(request, body.title, {"team_id": DEFAULT_TEAM_ID})
    return JSONResponse(created, 201)


async def start_review(request: Request, title: str, extra: dict[str, Any]) -> dict[str, Any]:
    """Store a new draft review (with ``extra`` fields such as its team) and its invites;
    answers its id, title and one invite link per role."""
    svc = services(request)
    review_id = "r_" + secrets.token_urlsafe(9)
    review = {
        **extra,
        "id": review_id,
        "title": title.strip(),
        "status": "draft",
        "created_ms": int(time.time() * 1000),
    }
    await svc.storage.put_record(REVIEW, review_id, review, review_id)
    full = await meeting_service(request).initialize(review)  # + the room doc's start
    await svc.teams.review_created(full)  # listed in its team (the default one made if new)
    invites = await svc.sessions.create_invites(review_id)
    base = base_url(svc, request)
    links = {str(role): f"{base}/j/{invite.code}" for role, invite in invites.items()}
    return {"id": review_id, "title": review["title"], "invites": links}


async def join_review(request: Request) -> Response:
    svc = services(request)
    limits, ip = rate_limits(request), peer_ip(request)
    refused = limits.join(ip)
    if refused is not None:
        return refused.response()
    body = await read_body(request, JoinReview)
    seats = Seats(svc.settings.max_attendees, svc.settings.max_observers)
    try:
        session, token = await svc.sessions.join(body.invite, body.name, seats)
    except ReviewFull as exc:
        raise ApiError(409, "review-full", str(exc)) from exc
    except AuthError as exc:
        limits.bad_invite(ip)  # guessing invite codes soon locks the guesser out
        raise ApiError(403, "invite-invalid", str(exc)) from exc
    response = JSONResponse(
        {
            "token": token,
            "role": str(session.role),
            "review_id": session.review_id,
            "participant_id": session.participant_id,
            "name": session.name,
        }
    )
    return with_session_cookie(response, svc, session_cookie(session.review_id), token)


def with_session_cookie(response: Response, svc: Services, name: str, token: str) -> Response:
    """The session token as an HttpOnly, same-site cookie that lives as long as it does."""
    response.set_cookie(
        name,
        token,
        max_age=svc.settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=svc.settings.cookie_secure,
        path="/",
    )
    return response


async def server_time(request: Request) -> Response:
    return JSONResponse({"now_ms": time.time_ns() // 1_000_000})


async def healthz(request: Request) -> Response:
    """200 while storage takes writes; 503 with why (unreachable, stalled, full) if not.

    Answers at once whatever the data disk does: the storage state is kept in memory
    (storage/health.py), nothing here waits on a write."""
    svc = services(request)
    health = svc.storage.health
    writable = health.ok
    reachable = await svc.storage.ping() if writable else True
    ok = writable and reachable
    reason = health.reason or ("" if reachable else "storage does not answer")
    return JSONResponse(
        {
            "status": "ok" if ok else "storage-unavailable",
            "storage": type(svc.storage).__name__,
            "rooms": len(svc.rooms.rooms),
            "health": {
                "state": health.state if reachable else "unreachable",
                "reason": reason,
                "since": health.to_dict()["since"],
            },
        },
        status_code=200 if ok else 503,
    )


async def metrics(request: Request) -> Response:
    return Response(
        services(request).metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


routes = [
    Route("/api/reviews", create_review, methods=["POST"]),
    Route("/api/join", join_review, methods=["POST"]),
    Route("/api/time", server_time, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
