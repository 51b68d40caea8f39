"""Every meeting route in one list (for app.py) and the OpenAPI 3.1 schema of all routes.

Command paths come from the `CommandSet`s, request bodies from their pydantic models
(`models_json_schema` hoists nested models into `components.schemas`); the few routes
outside a CommandSet (http/api.py, the public meeting routes, health, metrics, pages) are
described here by hand. tests/http/test_api_fuzz.py fuzzes a real server against this
document, so what it states about statuses and response shapes must stay true.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from debrief import __version__
from debrief.auth.roles import Role
from debrief.http import (
    actions_api,
    audit_api,
    carryover_api,
    delivery_api,
    discussion_api,
    exports_api,
    facilitation_api,
    floor_api,
    followup_api,
    insights_api,
    learning_api,
    meeting_api,
    notes_api,
    people_api,
    prefs_api,
    review_api,
    teams_api,
    templates_api,
    themes_api,
    tokens_api,
    tracker_api,
)
from debrief.http.actions_api import LintRequest
from debrief.http.api import CreateReview, JoinReview
from debrief.http.commands import Command, CommandRoutes
from debrief.http.team_commands import TeamCommand, token_scope
from debrief.http.teams_api import CreateTeam, JoinTeam

COMMAND_SETS = [
    review_api.api,
    meeting_api.api,
    floor_api.api,
    facilitation_api.api,
    discussion_api.api,
    templates_api.api,
    notes_api.api,
    actions_api.api,
    exports_api.api,
    audit_api.api,
    followup_api.api,
    carryover_api.api,
    people_api.api,
    tracker_api.api,
    themes_api.review_api,
]
# Commands under /api/teams/{team_id}, authenticated by a team session (team_commands.py).
TEAM_COMMAND_SETS = [teams_api.api, followup_api.team_api, tracker_api.team_api, tokens_api.api,
                     themes_api.api, delivery_api.api, learning_api.api,
                     insights_api.api]  # fmt: skip
# Commands that answer 200 instead of their 201 when what they would add exists already.
FOUND_ANSWERS_200 = (teams_api.add_person, people_api.add_review_person)
REF = "#/components/schemas/{model}"
ERROR_REF = {"$ref": REF.format(model="Error")}
BODY_METHODS = ("POST", "PUT", "PATCH")
# The statuses a route may answer with besides its success, and what each means.
ERRORS = {
    "400": "The body is not valid JSON",
    "401": "No session, or it expired or was revoked",
    "403": "Your role may not do this, or the session belongs to another review",
    "404": "Unknown review, or unknown id in the path or body",
    "409": "Not possible in the current state (e.g. the review is closed)",
    "413": "The request body is larger than the server accepts",
    "422": "Invalid or unknown fields, or content the review cannot take (the detail says which)",
    "429": "Too many requests from this address or session: wait and try again",
    "503": "Storage is unreachable for a moment: try again shortly",
}
PATH_PARAMS = {
    "review_id": "The review's id (from POST /api/reviews)",
    "code": "An invite code (the last part of an invite link)",
    "phase_id": "A phase id from GET .../agenda",
    "participant_id": "An attendee's participant id from GET .../attendees",
    "note_id": "A note id (your own, or a revealed one)",
    "theme_id": "A theme id",
    "action_id": "An action item id from GET .../actions",
    "team_id": "The team's id (from POST /api/teams)",
    "person_id": "A person's id from GET /api/teams/{team_id}/people",
    "gid": "A followed-up action's id (<review id>.<action id>) from GET .../follow-up",
    "webhook_id": "A webhook's id from GET /api/teams/{team_id}/channels",
    "delivery_id": "A delivery's id from GET /api/teams/{team_id}/deliveries",
    "token_id": "An API token's id from GET /api/teams/{team_id}/tokens",
    "brief_id": "A learning brief's id from GET /api/teams/{team_id}/briefs",
}
BEARER_OR_COOKIE: list[dict[str, list[str]]] = [{"bearer": []}, {"cookie": []}]
OPEN: list[dict[str, list[str]]] = []  # no credentials needed


def commands() -> list[Command]:
    return [c for s in COMMAND_SETS for c in s.commands]


def _obj(required: dict[str, Any], **optional: Any) -> dict[str, Any]:
    """A JSON object schema with these required properties (and some optional ones)."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **optional},
    }


STRING = {"type": "string"}
NON_EMPTY = {"type": "string", "minLength": 1}
INTEGER = {"type": "integer"}
ROLE = {"type": "string", "enum": [str(r) for r in Role]}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every refusal: a stable machine code and a human explanation.",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "minLength": 1},
        "detail": {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "array",
                    "description": "422 invalid-fields: one entry per bad field",
                    "items": _obj({"field": STRING, "problem": STRING}),
                },
            ]
        },
        "field": {"type": "string", "description": "the offending field, when there is one"},
        "line": {"type": "integer", "description": "timeline import: the line that failed"},
    },
}


def _errors(codes: list[str]) -> dict[str, Any]:
    content = {"application/json": {"schema": ERROR_REF}}
    return {code: {"description": ERRORS[code], "content": content} for code in codes}


def _command_errors(command: Command | TeamCommand) -> list[str]:
    codes = ["401", "403", "404", "409", "422", "429", "503"]
    if command.method in BODY_METHODS:
        codes += ["413"]
    if command.body is not None:
        codes += ["400"]
    return sorted(codes)


def _success_content(command: Command | TeamCommand) -> dict[str, Any]:
    if command.handler in (tracker_api.export_review_actions, tracker_api.export_team_actions):
        # ?format=jira and linear answer CSV, github a JSON array of issue bodies.
        issues = {"type": "array", "items": {"type": "object"}}
        return {"text/csv": {"schema": STRING}, "application/json": {"schema": issues}}
    if command.handler is exports_api.export:
        # The media type follows ?format=: markdown, html or json.
        return {
            "text/markdown": {"schema": STRING},
            "text/html": {"schema": STRING},
            "application/json": {"schema": {"type": "object"}},
        }
    if command.response != "application/json":  # a download (e.g. a brief's .md, .html)
        return {command.response: {"schema": STRING}}
    return {command.response: {"schema": {"type": "object"}}}


def _command_operation(
    command: Command | TeamCommand, tag: str, refs: dict[str, Any]
) -> dict[str, Any]:
    roles = [str(r) for r in command.roles]
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": PATH_PARAMS.get(name, ""),
            "schema": NON_EMPTY,
        }
        for name in _path_params(command.path)
    ]
    parameters += [
        {"name": name, "in": "query", "description": text, "schema": STRING}
        for name, text in command.query.items()
    ]
    responses: dict[str, Any] = {
        str(command.status): {"description": "Done", "content": _success_content(command)}
    }
    if command.handler in FOUND_ANSWERS_200:
        responses["200"] = {"description": "Found", "content": _success_content(command)}
    responses |= _errors(_command_errors(command))
    operation: dict[str, Any] = {
        "tags": [tag],
        "summary": command.summary,
        "description": f"Roles: {', '.join(roles)}.",
        "operationId": command.handler.__name__,
        "x-roles": roles,
        "security": BEARER_OR_COOKIE,
        "parameters": parameters,
        "responses": responses,
    }
    if command.body is not None:
        # An empty body reads as {} (http/errors.py), so a model without required
        # fields may be left out.
        required = any(f.is_required() for f in command.body.model_fields.values())
        operation["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": refs[command.body.__name__]}},
        }
    return operation


def _team_operation(command: TeamCommand, tag: str, refs: dict[str, Any]) -> dict[str, Any]:
    """A team command: like a review command, with a team session and team roles."""
    operation = _command_operation(command, tag, refs)
    roles = list(command.shown_roles)
    operation["x-roles"] = roles
    operation["description"] = (
        f"Team roles: {', '.join(roles)}. Takes a team session (POST /api/teams/join) as "
        "a bearer token or the debrief_team_<team id> cookie."
    )
    scope = token_scope(command)
    operation["x-token-scope"] = scope
    operation["description"] += (
        f" An API token (Bearer dbt_...) of scope {scope} or above may call it."
        if scope
        else " API tokens may not call it."
    )
    return operation


def _team_core_paths(refs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Creating and joining a team (http/teams_api.py), outside the team commands."""
    body_errors = ["400", "413", "422", "429", "503"]
    created = _obj({"id": STRING, "name": STRING,
                    "links": _obj({"admin": STRING, "member": STRING})})  # fmt: skip
    role = {"type": "string", "enum": ["admin", "member"]}
    joined = _obj({"token": STRING, "team_id": STRING, "role": role, "name": STRING})
    return {
        "/api/teams": {
            "post": _plain(
                "create_team",
                "Create a team; answers its id and its admin and member links. Needs "
                "`Authorization: Bearer <admin token>` when the server has one set.",
                (201, "application/json", created),
                errors=["401", *body_errors],
                body=refs["CreateTeam"],
                security=[{}, {"bearer": []}],
                tag="teams",
            )
        },
        "/api/teams/join": {
            "post": _plain(
                "join_team",
                "Join a team with its admin or member link: answers a team session token "
                "(also set as the debrief_team_<team id> cookie, HttpOnly)",
                (200, "application/json", joined),
                errors=["403", *body_errors],
                body=refs["JoinTeam"],
                tag="teams",
            )
        },
    }


def _person_paths(refs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """An owner's personal link (http/followup_api.py): the code in the path is the key."""
    code = {"name": "code", "in": "path", "required": True, "schema": NON_EMPTY,
            "description": "A personal link code (the last part of /p/<code>)"}  # fmt: skip
    gid = {"name": "gid", "in": "path", "required": True, "schema": NON_EMPTY,
           "description": PATH_PARAMS["gid"]}  # fmt: skip
    page = _obj({"person": {"type": "object"}, "team": {"type": "object"},
                 "actions": {"type": "array", "items": {"type": "object"}},
                 "overdue": INTEGER})  # fmt: skip
    state = (200, "application/json", {"type": "object"})
    return {
        "/api/p/{code}": {
            "get": _plain(
                "person_page",
                "A person's actions across the team's reviews, and how many are overdue",
                (200, "application/json", page),
                errors=["404", "429", "503"],
                tag="follow-up",
                parameters=[code],
            )
        },
        "/api/p/{code}/actions/{gid}": {
            "get": _plain(
                "person_action",
                "One of the person's actions with its history",
                state,
                errors=["403", "404", "429", "503"],
                tag="follow-up",
                parameters=[code, gid],
            )
        },
        "/api/p/{code}/actions/{gid}/status": {
            "post": _plain(
                "person_set_status",
                "The owner updates the status of their action: done needs evidence, won't "
                "do a reason; verifying is for someone else",
                state,
                errors=["400", "403", "404", "409", "413", "422", "429", "503"],
                body=refs["StatusChange"],
                tag="follow-up",
                parameters=[code, gid],
            )
        },
    }


def _feed_paths() -> dict[str, dict[str, Any]]:
    """The calendar feeds (http/tracker_api.py): the secret in the path is the key."""
    calendar = (200, "text/calendar", STRING)
    secret = {"name": "secret", "in": "path", "required": True, "schema": NON_EMPTY,
              "description": "The feed's secret (POST /api/teams/{team_id}/feed)"}  # fmt: skip
    code = {"name": "code", "in": "path", "required": True, "schema": NON_EMPTY,
            "description": "A personal link code (the last part of /p/<code>)"}  # fmt: skip
    return {
        "/api/feeds/teams/{secret}.ics": {
            "get": _plain(
                "team_feed",
                "The team's calendar (iCalendar): due dates of pending actions (all-day) "
                "and scheduled reviews (UTC)",
                calendar,
                errors=["404", "429", "503"],
                tag="trackers",
                parameters=[secret],
            )
        },
        "/api/p/{code}/calendar.ics": {
            "get": _plain(
                "person_feed",
                "A person's calendar (iCalendar): their pending actions' due dates and the "
                "scheduled reviews they attend",
                calendar,
                errors=["404", "429", "503"],
                tag="trackers",
                parameters=[code],
            )
        },
    }


def _path_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)  # also "{brief_id}.md"


def _plain(
    operation_id: str,
    summary: str,
    success: tuple[int, str, dict[str, Any]],
    *,
    errors: list[str] | None = None,
    body: dict[str, Any] | None = None,
    security: list[dict[str, list[str]]] = OPEN,
    tag: str = "core",
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """An operation outside the CommandSets, written out by hand."""
    status, media, schema = success
    responses: dict[str, Any] = {
        str(status): {"description": "OK", "content": {media: {"schema": schema}}}
    }
    responses |= _errors(errors or [])
    operation: dict[str, Any] = {
        "tags": [tag],
        "summary": summary,
        "operationId": operation_id,
        "security": security,
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        content = {"application/json": {"schema": body}}
        operation["requestBody"] = {"required": True, "content": content}
    return operation


def _core_paths(refs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Routes of http/api.py, the public meeting routes, health, metrics and the pages."""
    body_errors = ["400", "413", "422", "429", "503"]
    invites = _obj({str(r): STRING for r in Role})
    created = _obj({"id": STRING, "title": STRING, "invites": invites})
    joined = _obj(
        {
            "token": STRING,
            "role": ROLE,
            "review_id": STRING,
            "participant_id": STRING,
            "name": STRING,
        }
    )
    status = {"type": "string", "enum": ["ok", "storage-unavailable"]}
    storage_state = {"type": "string", "enum": ["ok", "stalled", "full", "unreachable"]}
    since = {"type": ["number", "null"]}
    health = _obj(
        {"status": status, "storage": STRING, "rooms": INTEGER},
        health=_obj({"state": storage_state, "reason": STRING, "since": since}),
    )
    phase = _obj({"id": STRING, "title": STRING, "minutes": INTEGER, "objective": STRING})
    phases = {"type": "array", "items": phase}
    template = _obj({"name": STRING, "title": STRING, "minutes": INTEGER, "phases": phases})
    templates = _obj({"templates": {"type": "array", "items": template}})
    problem = _obj({"code": STRING, "field": STRING, "message": STRING, "hint": STRING})
    linted = _obj(
        {
            "clean": {"type": "boolean"},
            "actions": {
                "type": "object",
                "description": "per action (its id, else its index): the problems found",
                "additionalProperties": {"type": "array", "items": problem},
            },
        }
    )
    html = (200, "text/html", STRING)
    code = {"name": "code", "in": "path", "required": True, "schema": NON_EMPTY}
    review = {**code, "name": "review_id"}
    return {
        "/api/reviews": {
            "post": _plain(
                "create_review",
                "Create a review; answers its id and one invite link per role. Needs "
                "`Authorization: Bearer <admin token>` when the server has one set.",
                (201, "application/json", created),
                errors=["401", *body_errors],
                body=refs["CreateReview"],
                security=[{}, {"bearer": []}],
            )
        },
        "/api/join": {
            "post": _plain(
                "join_review",
                "Join with an invite link or code: answers a session token (also set as the "
                "debrief_session_<review id> cookie, HttpOnly)",
                (200, "application/json", joined),
                errors=["403", *body_errors],
                body=refs["JoinReview"],
            )
        },
        "/api/time": {
            "get": _plain(
                "server_time",
                "Server clock, for clock offset estimates",
                (200, "application/json", _obj({"now_ms": INTEGER})),
                errors=["429"],
            )
        },
        "/api/agenda/templates": {
            "get": _plain(
                "agenda_templates",
                "The agenda templates a moderator can pick from",
                (200, "application/json", templates),
                errors=["429"],
                tag="meeting",
            )
        },
        "/api/lint/actions": {
            "post": _plain(
                "lint_given",
                "Lint action items that are not stored anywhere (editor preview)",
                (200, "application/json", linted),
                errors=body_errors,
                body=refs["LintRequest"],
                tag="actions",
            )
        },
        "/api/openapi.json": {
            "get": _plain("openapi", "This document", (200, "application/json", {"type": "object"}))
        },
        "/healthz": {
            "get": _plain(
                "healthz",
                "Liveness and storage state: 503 with the same body, and the reason, while "
                "storage is unreachable or refuses writes (a stalled or full disk)",
                (200, "application/json", health),
                tag="operations",
            )
        },
        "/metrics": {
            "get": _plain(
                "metrics",
                "Prometheus metrics",
                (200, "text/plain", STRING),
                tag="operations",
            )
        },
        "/": {"get": _plain("index", "The web app", html, tag="web")},
        "/j/{code}": {
            "get": _plain(
                "invite_page", "The web app's join page", html, tag="web", parameters=[code]
            )
        },
        "/r/{review_id}": {
            "get": _plain(
                "review_page", "The web app's review page", html, tag="web", parameters=[review]
            )
        },
    }


def build_schema() -> dict[str, Any]:
    models: list[type[BaseModel]] = [CreateReview, JoinReview, LintRequest, CreateTeam, JoinTeam]
    every: list[Command | TeamCommand] = [*commands()]
    every += [c for s in TEAM_COMMAND_SETS for c in s.commands]
    for command in every:
        if command.body is not None and command.body not in models:
            models.append(command.body)
    keyed, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    refs = {m.__name__: keyed[(m, "validation")] for m in models}
    schemas = dict(top.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths = _core_paths(refs) | _team_core_paths(refs) | _person_paths(refs) | _feed_paths()
    paths |= prefs_api.openapi_paths()  # prefs and unsubscribe (issue 13)
    for command_set in COMMAND_SETS:
        for command in command_set.commands:
            operation = _command_operation(command, command_set.tag, refs)
            paths.setdefault(command.path, {})[command.method.lower()] = operation
    for team_set in TEAM_COMMAND_SETS:
        for team_command in team_set.commands:
            operation = _team_operation(team_command, team_set.tag, refs)
            paths.setdefault(team_command.path, {})[team_command.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Debrief API",
            "version": __version__,
            "description": (
                "Commands of a blameless review. Shared doc layout: docs/shared-docs.md. "
                'Every refusal is JSON: {"error", "detail"}. A command takes the session '
                "token as `Authorization: Bearer <token>` or the debrief_session_<review id> "
                "cookie (the debrief_session cookie of earlier versions is still read); with "
                "a cookie, a POST, PUT, PATCH or DELETE must come from the app's own "
                "origin. The live docs are served over the websocket /ws/{review_id}/{doc} "
                "(doc: room, timeline or recap), which OpenAPI cannot describe."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "debrief_session"},
            },
        },
    }


_SCHEMA: dict[str, Any] | None = None


async def openapi(request: Request) -> Response:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = build_schema()
    return JSONResponse(_SCHEMA)


# Public routes first: /api/agenda/templates etc. must not be shadowed (the commands,
# all under /api/reviews/{review_id}, shadow none of them, and go first: the most used).
command_routes = CommandRoutes([route for s in COMMAND_SETS for route in s.routes()])
meeting_routes: list[Route | Mount] = [
    command_routes,
    Route("/api/openapi.json", openapi, methods=["GET"]),
    *meeting_api.public_routes,
    *actions_api.public_routes,
    *tracker_api.public_routes,  # before /api/p/{code}/...: calendar.ics is no action
    *prefs_api.public_routes,
    *followup_api.public_routes,
    *teams_api.public_routes,  # before the team commands: "join" is not a team id
    *[route for s in TEAM_COMMAND_SETS for route in s.routes()],
]
