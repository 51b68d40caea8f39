"""What a person receives: their preferences (from their personal link) and the
unsubscribe links every email carries (no session, no account: the signed token is the
key).

- GET/PUT /api/p/{code}/prefs: read or change ``{<event>: bool}``.
- GET /api/unsubscribe/{token}: what the link would stop (the web page /u/<token> shows
  it and asks to confirm); POST applies it.
- POST /u/{token}: the one-click unsubscribe of mail clients (RFC 8058,
  ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``); GET /u/<token> is the web page.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from debrief.delivery import events as ev
from debrief.delivery import prefs as pf
from debrief.delivery.keys import EVENTS
from debrief.http.errors import ApiError, read_body
from debrief.http.ratelimit import peer_ip, rate_limits
from debrief.services import Services, services
from debrief.teams.keys import PERSON


class PrefsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    prefs: dict[str, bool] = Field(
        max_length=len(EVENTS),
        description="event name -> on (true) or off (false); events not named keep theirs",
    )


def _refused(request: Request) -> Response | None:
    """Counted like the review commands: per address, before anything is looked up."""
    refused = rate_limits(request).command_from(peer_ip(request))
    return None if refused is None else refused.response()


def prefs_view(person: dict[str, Any]) -> dict[str, Any]:
    prefs = pf.prefs_of(person)
    return {
        "person": {
            "id": person["id"],
            "name": person.get("name", ""),
            "email": person.get("email", ""),
        },
        "prefs": prefs,
        "events": [{"event": e, "label": pf.LABELS[e], "on": prefs[e]} for e in EVENTS],
    }


async def _person(request: Request) -> tuple[Services, dict[str, Any]]:
    svc = services(request)
    code = request.path_params["code"]
    person = await svc.teams.people.by_link(code) if len(code) <= 100 else None
    if person is None:
        raise ApiError(404, "link-invalid", "this personal link is unknown or was replaced")
    return svc, person


async def _set_prefs(svc: Services, person_id: str, prefs: dict[str, bool]) -> dict[str, Any]:
    """Store a person's new prefs under the directory's lock (a rename at the same moment
    must not undo them, nor they the rename)."""
    found = await svc.storage.get_record(PERSON, person_id)
    if found is None:
        raise ApiError(404, "unknown-person", "this person is no longer in the directory")
    team_id = str(found["team_id"])
    async with svc.teams.people.lock(team_id):
        person = await svc.storage.get_record(PERSON, person_id) or found
        person = {**person, "prefs": {**pf.prefs_of(person), **prefs}}
        await svc.storage.put_record(PERSON, person_id, person, team_id)
    return person


async def get_prefs(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    _, person = await _person(request)
    return JSONResponse(prefs_view(person))


async def put_prefs(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    svc, person = await _person(request)
    body = await read_body(request, PrefsChange)
    person = await _set_prefs(svc, person["id"], pf.validate_prefs(body.prefs))
    return JSONResponse(prefs_view(person))


# --- unsubscribe ---------------------------------------------------------------------


async def _target(request: Request) -> tuple[Services, str, str, str, str]:
    svc = services(request)
    found = ev.read_token(svc.settings, request.path_params["token"])
    if found is None:
        raise ApiError(404, "link-invalid", "this unsubscribe link is not valid")
    return (svc, *found)


def _what(event: str) -> str:
    return "every message from Debrief" if event == pf.ALL else pf.LABELS[event]


async def describe(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    svc, person_id, email, team_id, event = await _target(request)
    if person_id:
        record = await svc.storage.get_record(PERSON, person_id)
        if record is None:
            raise ApiError(404, "link-invalid", "the person of this link is no longer there")
        who = str(record.get("name") or "")
    else:
        record = await svc.storage.get_record(ev.OPTOUT, ev.optout_id(team_id, email))
        who = email
    prefs = pf.prefs_of(record)
    subscribed = any(prefs.values()) if event == pf.ALL else prefs[event]
    return JSONResponse({"event": event, "what": _what(event), "who": who,
                         "subscribed": subscribed})  # fmt: skip


async def apply(svc: Services, person_id: str, email: str, team_id: str, event: str) -> None:
    if person_id:
        record = await svc.storage.get_record(PERSON, person_id)
        if record is None:
            raise ApiError(404, "link-invalid", "the person of this link is no longer there")
        await _set_prefs(svc, person_id, pf.turned_off(record, event))
        return
    record_id = ev.optout_id(team_id, email)
    async with svc.storage.lock(f"optout:{record_id}"):
        current = await svc.storage.get_record(ev.OPTOUT, record_id)
        data = {"email": email, "team_id": team_id, "prefs": pf.turned_off(current, event)}
        await svc.storage.put_record(ev.OPTOUT, record_id, data, team_id)


async def unsubscribe(request: Request) -> Response:
    if (refused := _refused(request)) is not None:
        return refused
    svc, person_id, email, team_id, event = await _target(request)
    await apply(svc, person_id, email, team_id, event)
    return JSONResponse({"event": event, "what": _what(event), "subscribed": False})


async def one_click(request: Request) -> Response:
    """RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click"; no page, no login."""
    if (refused := _refused(request)) is not None:
        return refused
    svc, person_id, email, team_id, event = await _target(request)
    await apply(svc, person_id, email, team_id, event)
    return PlainTextResponse(f"Unsubscribed: you will no longer get {_what(event).lower()}.")


public_routes = [
    Route("/api/p/{code}/prefs", get_prefs, methods=["GET"]),
    Route("/api/p/{code}/prefs", put_prefs, methods=["PUT"]),
    Route("/api/unsubscribe/{token}", describe, methods=["GET"]),
    Route("/api/unsubscribe/{token}", unsubscribe, methods=["POST"]),
    Route("/u/{token}", one_click, methods=["POST"]),
]


# --- OpenAPI (http/openapi.py adds these to its document) ----------------------------


def _op(
    op_id: str,
    summary: str,
    errors: list[str],
    param: dict[str, Any],
    body: dict[str, Any] | None = None,
    media: str = "application/json",
) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    operation: dict[str, Any] = {
        "tags": ["delivery"],
        "summary": summary,
        "operationId": op_id,
        "security": [],
        "parameters": [param],
        "responses": {
            "200": {
                "description": "OK",
                "content": {
                    media: {
                        "schema": {"type": "object"}
                        if media == "application/json"
                        else {"type": "string"}
                    }
                },
            },
            **{code: {"description": code, **error} for code in errors},
        },
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    return operation


def openapi_paths() -> dict[str, dict[str, Any]]:
    code = {
        "name": "code",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "A personal link code (the last part of /p/<code>)",
    }
    token = {
        "name": "token",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "The signed token of an unsubscribe link (/u/<token>)",
    }
    read = ["404", "429", "503"]
    write = ["400", "404", "413", "422", "429", "503"]
    body = PrefsChange.model_json_schema()
    return {
        "/api/p/{code}/prefs": {
            "get": _op("get_prefs", "Which messages the person of this personal link gets",
                       read, code),
            "put": _op("put_prefs", "Turn messages on or off, per event", write, code, body),
        },
        "/api/unsubscribe/{token}": {
            "get": _op("describe_unsubscribe", "What this unsubscribe link would stop", read,
                       token),
            "post": _op("unsubscribe", "Stop what this unsubscribe link names (no session)",
                        read, token),
        },
        "/u/{token}": {
            # the web app's page (its route is in http/web.py): what the link stops, a button
            "get": {**_op("unsubscribe_page", "The web app's unsubscribe page", [], token,
                          media="text/html"), "tags": ["web"]},
            "post": _op("one_click_unsubscribe",
                        "One-click unsubscribe of mail clients (RFC 8058)", read, token,
                        media="text/plain"),
        },
    }  # fmt: skip
