"""Actions out to the teams' trackers and calendars over HTTP.

- GET /api/reviews/{r}/actions/export?format=jira|github|linear (every role of the
  review): a closed review's actions with their follow-up status; an open review's
  current action items (status open).
- GET /api/teams/{t}/actions/export?format=...&view=pending|all (team member or a read
  API token).
- The team's calendar feed: its admin turns it on or rotates it (POST .../feed, the
  URL is shown once), reads whether it is on, turns it off; the feed itself is
  GET /api/feeds/teams/{secret}.ics (the secret in the URL, no session).
- A person's calendar feed: GET /api/p/{code}/calendar.ics (their personal link).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from debrief.auth.roles import DocName, Role
from debrief.delivery import feeds, trackers
from debrief.http.api import base_url
from debrief.http.commands import ALL, Call, CommandSet
from debrief.http.errors import ApiError
from debrief.http.ratelimit import peer_ip, rate_limits
from debrief.http.team_commands import ADMINS, MEMBERS, TeamCall, TeamCommandSet
from debrief.meeting import closing
from debrief.meeting import review as rv
from debrief.services import Services, services
from debrief.teams.actions import MAX_LIMIT, ActionTracker
from debrief.teams.keys import DEFAULT_TEAM_NAME, TEAM, action_gid, team_of

api = CommandSet("trackers")
team_api = TeamCommandSet("trackers")

MAX_EXPORT = 5_000  # actions in one team export
TEAM_VIEWS = ("pending", "all")
CALENDAR = "text/calendar; charset=utf-8"
FORMAT_HELP = ("jira (CSV for Jira's CSV importer; dates yyyy-MM-dd), github (a JSON array "
               "of create-issue bodies) or linear (CSV for Linear's importer)")  # fmt: skip


def export_format(request: Request) -> str:
    name = request.query_params.get("format", "").lower()
    if name not in trackers.FORMATS:
        raise ApiError(422, "invalid-query", "format must be one of: jira, github, linear")
    return name


def download(text: str, media: str, filename: str) -> Response:
    return Response(
        text,
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "actions"


async def people_of(svc: Services, team_id: str) -> dict[str, dict[str, Any]]:
    """The team's people by id (owners' email and handle go into the exports)."""
    return {p["id"]: p for p in await svc.teams.people.people(team_id)}


# --- exports ----------------------------------------------------------------------------


async def review_actions(call: Call, review: dict[str, Any]) -> list[dict[str, Any]]:
    """A closed review's action-states (status included), else its current items."""
    if rv.is_read_only(review):
        states = await ActionTracker(call.svc.storage).of_review(call.review_id)
        if states:
            return states
    items = await call.meeting.read(call.review_id, DocName.RECAP, closing.read_actions)
    title = str(review.get("title") or "")
    return [
        {
            **item,
            "gid": action_gid(call.review_id, item["id"]),
            "review_id": call.review_id,
            "review_title": title,
            "status": "open",
        }
        for item in items
    ]


@api.command("GET", "/actions/export", "The review's actions as a Jira or Linear CSV, or "
             "GitHub issue bodies (JSON)", roles=ALL, query={"format": FORMAT_HELP},
             response="text/csv")  # fmt: skip
async def export_review_actions(call: Call, body: None) -> Any:
    name = export_format(call.request)
    review = await call.meeting.review(call.review_id)
    actions = await review_actions(call, review)
    # Observers do not see the team's directory: their export names owners only.
    people = {} if call.role == Role.OBSERVER else await people_of(call.svc, team_of(review))
    found = trackers.items(actions, base_url(call.svc, call.request), people)
    text, media, extension = trackers.render(name, found)
    filename = f"{slug(str(review.get('title') or ''))}-actions-{name}.{extension}"
    return download(text, media, filename)


@team_api.command("GET", "/actions/export", "The team's actions as a Jira or Linear CSV, or "
                  "GitHub issue bodies (JSON)", roles=MEMBERS,
                  query={"format": FORMAT_HELP,
                         "view": "pending (default: open, in progress, done) or all"})  # fmt: skip
async def export_team_actions(call: TeamCall, body: None) -> Any:
    name = export_format(call.request)
    view = call.request.query_params.get("view", "pending")
    if view not in TEAM_VIEWS:
        raise ApiError(422, "invalid-query", "view must be pending or all")
    tracker = ActionTracker(call.svc.storage)
    today = datetime.now(UTC).date()
    actions: list[dict[str, Any]] = []
    while len(actions) < MAX_EXPORT:
        page, total = await tracker.list_team(
            call.team_id, view, offset=len(actions), limit=MAX_LIMIT, today=today
        )
        actions += page
        if not page or len(actions) >= total:
            break
    found = trackers.items(actions[:MAX_EXPORT], base_url(call.svc, call.request),
                           await people_of(call.svc, call.team_id))  # fmt: skip
    text, media, extension = trackers.render(name, found)
    team = await call.teams.team(call.team_id)
    return download(text, media, f"{slug(str(team.get('name') or ''))}-{view}-{name}.{extension}")


# --- the team's calendar feed: its secret (admin) ---------------------------------------


def team_feed_url(call: TeamCall, secret: str) -> str:
    return f"{base_url(call.svc, call.request)}/api/feeds/teams/{secret}.ics"


@team_api.command("GET", "/feed", "Whether the team's calendar feed is on (admin; its URL "
                  "is only shown when made)", roles=ADMINS)  # fmt: skip
async def get_team_feed(call: TeamCall, body: None) -> Any:
    return await feeds.team_feed_state(call.svc.storage, call.team_id)


@team_api.command("POST", "/feed", "Turn the team's calendar feed on, or give it a new URL "
                  "(the old one stops working); answers the URL once (admin)",
                  roles=ADMINS)  # fmt: skip
async def rotate_team_feed(call: TeamCall, body: None) -> Any:
    secret = await feeds.rotate_team_feed(call.svc.storage, call.team_id)
    return {"url": team_feed_url(call, secret)}


@team_api.command("DELETE", "/feed", "Turn the team's calendar feed off (admin)",
                  roles=ADMINS)  # fmt: skip
async def stop_team_feed(call: TeamCall, body: None) -> Any:
    return {"stopped": await feeds.stop_team_feed(call.svc.storage, call.team_id)}


# --- the feeds themselves (the secret is in the URL; no session, no cookie) -------------


def _refused(request: Request) -> Response | None:
    refused = rate_limits(request).command_from(peer_ip(request))
    return None if refused is None else refused.response()


def calendar(text: str) -> Response:
    # Calendar apps poll; a few minutes of caching spares the server and stays fresh.
    return Response(text, media_type=CALENDAR, headers={"cache-control": "private, max-age=300"})


async def team_feed(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    svc = services(request)
    team_id = await feeds.team_of_feed(svc.storage, request.path_params["secret"])
    team = await svc.storage.get_record(TEAM, team_id) if team_id else None
    if team_id is None or team is None:
        raise ApiError(404, "feed-invalid", "this calendar feed is unknown or was replaced")
    name = str(team.get("name") or DEFAULT_TEAM_NAME)
    return calendar(await feeds.team_calendar(svc.storage, team_id, name, base_url(svc, request)))


async def person_feed(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    svc = services(request)
    code = request.path_params["code"]
    person = await svc.teams.people.by_link(code) if len(code) <= 100 else None
    if person is None:
        raise ApiError(404, "link-invalid", "this personal link is unknown or was replaced")
    return calendar(await feeds.person_calendar(svc.storage, person, base_url(svc, request)))


public_routes = [
    Route("/api/feeds/teams/{secret}.ics", team_feed, methods=["GET"]),
    Route("/api/p/{code}/calendar.ics", person_feed, methods=["GET"]),
]
