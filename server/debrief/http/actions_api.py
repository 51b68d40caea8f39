"""Action items in the `recap` doc with their lint, and timeline import."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from pycrdt import Doc, Map
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from debrief.auth.roles import DocName
from debrief.http.commands import ALL, ATTENDEES, RECAP_WRITERS, Call, CommandSet
from debrief.http.errors import read_body
from debrief.http.ratelimit import peer_ip, rate_limits
from debrief.meeting import closing, importers, lint
from debrief.meeting import docdata as dd
from debrief.meeting.errors import NotFound, ValidationError
from debrief.meeting.service import now_ms
from debrief.meeting.values import clean_text, parse_date
from debrief.teams.keys import PERSON, team_of

api = CommandSet("actions")
ActionKind = Literal[
    "", "immediate-remediation", "preventive-control", "monitoring", "documentation-ownership"
]


# The same limits as clean_fields checks (after trimming); a date is short.
_LIMITS = {"what": 500, "owner": 120, "verify": 500}
MAX_DUE = 40
MAX_OWNER_ID = 100


class ActionFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    what: str | None = Field(default=None, max_length=_LIMITS["what"])
    owner: str | None = Field(default=None, max_length=_LIMITS["owner"])
    due: str | None = Field(default=None, max_length=MAX_DUE, description="YYYY-MM-DD or empty")
    verify: str | None = Field(default=None, max_length=_LIMITS["verify"])
    kind: ActionKind | None = None
    owner_id: str | None = Field(
        default=None,
        max_length=MAX_OWNER_ID,
        description="a person of the review's team (the owner becomes their name); "
        "empty for a typed owner",
    )


class LintItem(BaseModel):
    """One action to lint: the fields the lint reads, each bounded; others are ignored."""

    model_config = ConfigDict(extra="ignore")
    id: str | None = Field(default=None, max_length=64)
    what: str | None = Field(default=None, max_length=_LIMITS["what"])
    owner: str | None = Field(default=None, max_length=_LIMITS["owner"])
    due: str | None = Field(default=None, max_length=MAX_DUE)
    verify: str | None = Field(default=None, max_length=_LIMITS["verify"])
    kind: str | None = Field(default=None, max_length=40)


class LintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actions: list[LintItem] = Field(max_length=500)

    def as_dicts(self) -> list[dict[str, Any]]:
        """The actions as the lint takes them (absent fields left out)."""
        return [a.model_dump(exclude_none=True) for a in self.actions]


class TimelineImport(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content: str = Field(max_length=importers.MAX_INPUT_CHARS)
    format: Literal["csv", "jsonl", "slack", "git"] | None = Field(
        default=None, description="default: guessed from the filename, then the content"
    )
    filename: str = Field(default="", max_length=200)


def clean_fields(body: ActionFields) -> dict[str, Any]:
    """Shape checks only; whether an action is good enough is the lint's job."""
    fields = body.model_dump(exclude_unset=True)
    result: dict[str, Any] = {}
    for key, value in fields.items():
        value = value or ""
        if key in _LIMITS:
            result[key] = clean_text(value, key, max_len=_LIMITS[key], single_line=key != "verify")
        elif key == "due" and value.strip():
            try:
                result[key] = parse_date(value).isoformat()
            except ValueError as exc:
                raise ValidationError(f"due: {exc}", field="due") from None
        else:
            result[key] = value.strip()
    return result


async def with_owner(call: Call, review: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """A picked owner (``owner_id``) must be a person of the review's team and gives the
    owner its name; a typed owner replaces a picked one."""
    owner_id = fields.get("owner_id")
    if owner_id:
        person = await call.svc.storage.get_record(PERSON, owner_id)
        if person is None or person.get("team_id") != team_of(review):
            raise ValidationError(
                "owner_id is not a person of this review's team",
                error="unknown-person",
                field="owner_id",
            )
        return {**fields, "owner": str(person.get("name") or "")}
    if "owner" in fields and "owner_id" not in fields:
        return {**fields, "owner_id": ""}
    return fields


def action_view(item: dict[str, Any]) -> dict[str, Any]:
    problems = [p.to_dict() for p in lint.lint_action(item, closing.today())]
    return {**item, "problems": problems}


@api.command("GET", "/actions", "Action items with their lint problems", roles=ALL)
async def list_actions(call: Call, body: None) -> Any:
    items = await call.meeting.read(call.review_id, DocName.RECAP, closing.read_actions)
    return {"actions": [action_view(i) for i in items]}


@api.command("POST", "/actions", "Add an action item", roles=RECAP_WRITERS, body=ActionFields,
             status=201)  # fmt: skip
async def create_action(call: Call, body: ActionFields) -> Any:
    review = await call.meeting.writable_review(call.review_id)
    fields = await with_owner(call, review, clean_fields(body))
    item = {"what": "", "owner": "", "owner_id": "", "due": "", "verify": "", "kind": "", **fields}
    item |= {"id": "a_" + secrets.token_urlsafe(9), "created_ms": now_ms()}

    def change(doc: Doc) -> None:
        doc.get("actions", type=Map)[item["id"]] = Map(item)

    await call.meeting.edit(call.review_id, DocName.RECAP, change)
    return action_view(item)


@api.command("PATCH", "/actions/{action_id}", "Edit an action item", roles=RECAP_WRITERS,
             body=ActionFields)  # fmt: skip
async def edit_action(call: Call, body: ActionFields) -> Any:
    review = await call.meeting.writable_review(call.review_id)
    action_id = call.request.path_params["action_id"]
    fields = await with_owner(call, review, clean_fields(body))

    def change(doc: Doc) -> dict[str, Any]:
        actions = doc.get("actions", type=Map)
        current = actions.get(action_id)
        if current is None:
            raise NotFound("there is no action item with this id", error="unknown-action")
        if isinstance(current, Map):
            for key, value in fields.items():
                current[key] = value
            return dd.action(action_id, dd.record(current) or {})
        # Written by a client as a plain value (an object, or junk): stored back in shape.
        merged = {**dd.action(action_id, dd.record(current) or {}), **fields}
        actions[action_id] = Map(merged)
        return merged

    item = await call.meeting.edit_returning(call.review_id, DocName.RECAP, change)
    return action_view(item)


@api.command("DELETE", "/actions/{action_id}", "Remove an action item", roles=RECAP_WRITERS)
async def delete_action(call: Call, body: None) -> Any:
    await call.meeting.writable_review(call.review_id)
    action_id = call.request.path_params["action_id"]

    def change(doc: Doc) -> None:
        actions = doc.get("actions", type=Map)
        if action_id not in actions:
            raise NotFound("there is no action item with this id", error="unknown-action")
        del actions[action_id]

    await call.meeting.edit(call.review_id, DocName.RECAP, change)
    return {"deleted": action_id}


@api.command("GET", "/actions/lint", "Lint every action item in the recap", roles=ALL)
async def lint_actions(call: Call, body: None) -> Any:
    return await closing.lint_review(call.meeting, call.review_id)


@api.command("POST", "/timeline/import",
             "Import events (CSV, JSON lines, Slack export, git log); all or nothing",
             roles=ATTENDEES, body=TimelineImport, status=201)  # fmt: skip
async def import_timeline(call: Call, body: TimelineImport) -> Any:
    await call.meeting.writable_review(call.review_id)
    fmt = body.format or importers.detect_format(body.filename, body.content)
    events = importers.parse_timeline(body.content, fmt)  # 422 naming the line, nothing kept
    created = now_ms()
    rows: list[dict[str, Any]] = []

    def change(doc: Doc) -> None:
        # Read and written in one edit: two imports of one file at once still add it once.
        target = doc.get("events", type=Map)
        there = [(e["time"], e["text"]) for e in (dd.event(k, v) for k, v in dd.entries(target))]
        rows[:] = [
            {**e, "id": "ev_" + secrets.token_urlsafe(9), "created_ms": created}
            for e in importers.not_yet_there(events, there)
        ]
        for row in rows:
            target[row["id"]] = Map(row)

    await call.meeting.edit(call.review_id, DocName.TIMELINE, change)
    return {
        "format": fmt,
        "imported": len(rows),
        "already_there": len(events) - len(rows),
        "ids": [r["id"] for r in rows],
    }


async def lint_given(request: Request) -> Response:
    """Public and pure: lint action items that are not stored anywhere (editor preview)."""
    refused = rate_limits(request).command_from(peer_ip(request))
    if refused is not None:  # public and CPU-bound: counted like the commands
        return refused.response()
    body = await read_body(request, LintRequest)
    problems = lint.lint_actions(body.as_dicts(), closing.today())
    return JSONResponse(
        {"clean": lint.is_clean(problems), "actions": lint.problems_to_dict(problems)}
    )


public_routes = [Route("/api/lint/actions", lint_given, methods=["POST"])]
