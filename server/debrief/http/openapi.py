"""Every meeting route in one list (for app.py) and the OpenAPI 3.1 schema built from them.

Paths come from the `CommandSet`s, request bodies from their pydantic models
(`models_json_schema` hoists nested models into `components.schemas`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from debrief import __version__
from debrief.http import (
    actions_api,
    exports_api,
    floor_api,
    meeting_api,
    notes_api,
    review_api,
)
from debrief.http.actions_api import LintRequest
from debrief.http.api import CreateReview, JoinReview
from debrief.http.commands import Command

COMMAND_SETS = [
    review_api.api,
    meeting_api.api,
    floor_api.api,
    notes_api.api,
    actions_api.api,
    exports_api.api,
]
REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "The body is not valid JSON",
    "401": "No session, or it expired or was revoked",
    "403": "Your role may not do this, or the session belongs to another review",
    "404": "Unknown review, or unknown id in the path or body",
    "409": "Not possible in the current state (e.g. the review is closed)",
    "422": "Invalid or unknown fields (the detail names them)",
}


def commands() -> list[Command]:
    return [c for s in COMMAND_SETS for c in s.commands]


def _operation(command: Command, tag: str, refs: dict[str, Any]) -> dict[str, Any]:
    roles = ", ".join(str(r) for r in command.roles)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_params(command.path)
    ]
    parameters += [
        {"name": name, "in": "query", "description": text, "schema": {"type": "string"}}
        for name, text in command.query.items()
    ]
    error = {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
    responses: dict[str, Any] = {
        str(command.status): {
            "description": "Done",
            "content": {command.response: {"schema": {"type": "object"}}},
        }
    }
    responses |= {code: {"description": text, "content": error} for code, text in _ERRORS.items()}
    operation: dict[str, Any] = {
        "tags": [tag],
        "summary": command.summary,
        "description": f"Roles: {roles}.",
        "operationId": command.handler.__name__,
        "security": [{"bearer": []}, {"cookie": []}],
        "parameters": parameters,
        "responses": responses,
    }
    if command.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[command.body.__name__]}},
        }
    return operation


def _path_params(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def build_schema() -> dict[str, Any]:
    models: list[type[BaseModel]] = [CreateReview, JoinReview, LintRequest]
    for command in commands():
        if command.body is not None and command.body not in models:
            models.append(command.body)
    keyed, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    refs = {m.__name__: keyed[(m, "validation")] for m in models}
    schemas = dict(top.get("$defs", {}))
    schemas["Error"] = {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {"error": {"type": "string"}, "detail": {}},
    }
    paths: dict[str, dict[str, Any]] = {}
    for command_set in COMMAND_SETS:
        for command in command_set.commands:
            operation = _operation(command, command_set.tag, refs)
            paths.setdefault(command.path, {})[command.method.lower()] = operation

    def simple(method: str, summary: str, model: str | None = None) -> dict[str, Any]:
        ok = {"200": {"description": "OK"}}
        operation: dict[str, Any] = {"summary": summary, "responses": ok}
        if model is not None:
            operation["requestBody"] = {"content": {"application/json": {"schema": refs[model]}}}
        return {method: operation}

    paths["/api/reviews"] = simple("post", "Create a review (admin token when set)", "CreateReview")
    paths["/api/join"] = simple("post", "Join with an invite: session token, cookie", "JoinReview")
    paths["/api/time"] = simple("get", "Server clock {now_ms}, for clock offset estimates")
    paths["/api/agenda/templates"] = simple("get", "The agenda templates")
    paths["/api/lint/actions"] = simple("post", "Lint the action items given", "LintRequest")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Debrief API",
            "version": __version__,
            "description": "Commands of a blameless review. Shared doc layout: "
            'docs/shared-docs.md. Errors: {"error", "detail"}.',
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


# Public routes first: /api/agenda/templates etc. must not be shadowed.
meeting_routes: list[Route] = [
    Route("/api/openapi.json", openapi, methods=["GET"]),
    *meeting_api.public_routes,
    *actions_api.public_routes,
    *[route for s in COMMAND_SETS for route in s.routes()],
]
