"""Learning briefs over HTTP: draft from a theme group, preview, edit, publish, export.

Members draft and edit briefs; a team admin publishes them and edits the team's table
of recurring finding -> training response. A draft answers with its text as written
(`text`, names and all: only the team reads it) and its anonymised `preview` (the text
every export holds, and every replacement made in it, each with where it is).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from debrief.http.team_commands import ADMINS, TeamCall, TeamCommandSet
from debrief.learning import anonymise as an
from debrief.learning import brief as bf
from debrief.meeting.errors import ValidationError
from debrief.teams import briefs as br

api = TeamCommandSet("learning")
MAX_REFS = 100
Ref = Annotated[str, Field(min_length=3, max_length=200)]
RowId = Annotated[str, Field(max_length=40)]
Category = Annotated[str, Field(max_length=40)]


class ThemeGroupRefs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refs: list[Ref] = Field(min_length=1, max_length=MAX_REFS,
                            description='theme refs "<review id>:<theme id>"')  # fmt: skip
    name: str = Field(min_length=1, max_length=200, description="the recurring finding")


class NewBrief(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: ThemeGroupRefs
    response_id: str = Field(default="", max_length=40,
                             description="a row of the team's training responses; "
                             "default: the one for the group's most frequent category")  # fmt: skip


class AddReplacement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    original: str = Field(min_length=1, max_length=an.MAX_ORIGINAL)
    replacement: str = Field(default="", max_length=an.MAX_REPLACEMENT,
                             description='default "a colleague"')  # fmt: skip


class ReplacementChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")
    add: list[AddReplacement] = Field(default_factory=list, max_length=50)
    undo: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=500,
        description="replacement ids to undo (an added one is taken away)")  # fmt: skip
    redo: list[Annotated[str, Field(max_length=40)]] = Field(
        default_factory=list, max_length=500, description="undone replacement ids to apply again"
    )


class BriefPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, max_length=br.MAX_TEXT,
                             description="the brief's Markdown as written")  # fmt: skip
    replacements: ReplacementChanges | None = None


class TrainingResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: RowId = ""
    finding: str = Field(min_length=1, max_length=bf.MAX_FINDING)
    response: str = Field(min_length=1, max_length=bf.MAX_RESPONSE)
    categories: list[Category] = Field(default_factory=list, max_length=10)
    origin: str = Field(default="team", max_length=20)


class TrainingResponses(BaseModel):
    model_config = ConfigDict(extra="forbid")
    responses: list[TrainingResponse] = Field(max_length=bf.MAX_RESPONSES)


def _ref(raw: str) -> tuple[str, str]:
    review_id, sep, theme_id = raw.partition(":")
    if not sep or not review_id or not theme_id:
        raise ValidationError(f"{raw!r} is not a theme ref like <review id>:<theme id>",
                              error="invalid-ref", field="group.refs")  # fmt: skip
    return review_id, theme_id


def _briefs(call: TeamCall) -> br.Briefs:
    return br.Briefs(call.svc.storage)


def _brief_id(call: TeamCall) -> str:
    return str(call.request.path_params["brief_id"])


def _download(record: dict[str, Any], extension: str) -> Response:
    title, text = br.export_text(record)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "learning-brief"
    suffix = "" if record.get("status") == br.PUBLISHED else "-draft"
    headers = {"content-disposition": f'attachment; filename="{slug}{suffix}.{extension}"'}
    if extension == "md":
        return Response(text, media_type="text/markdown; charset=utf-8", headers=headers)
    state = "Published" if record.get("status") == br.PUBLISHED else "Draft, not yet published"
    page = bf.to_html(text, title, f"{state}. People are named by their role.")
    return Response(page, media_type="text/html; charset=utf-8", headers=headers)


@api.command("POST", "/briefs", "Draft a learning brief from a group of recurring themes; "
             "answers it with its anonymised preview", body=NewBrief, status=201)  # fmt: skip
async def create_brief(call: TeamCall, body: NewBrief) -> Any:
    refs = [_ref(r) for r in body.group.refs]
    record = await _briefs(call).create(
        call.team_id, body.group.name, refs, response_id=body.response_id, by=call.session.name
    )
    return br.view(record)


@api.command("GET", "/briefs", "The team's learning briefs, newest first")
async def list_briefs(call: TeamCall, body: None) -> Any:
    return {"briefs": await _briefs(call).list(call.team_id)}


@api.command("GET", "/briefs/{brief_id}.md", "Download a brief as Markdown (anonymised)")
async def brief_markdown(call: TeamCall, body: None) -> Any:
    return _download(await _briefs(call).get(call.team_id, _brief_id(call)), "md")


@api.command("GET", "/briefs/{brief_id}.html", "Download a brief as a web page (anonymised)")
async def brief_html(call: TeamCall, body: None) -> Any:
    return _download(await _briefs(call).get(call.team_id, _brief_id(call)), "html")


@api.command("GET", "/briefs/{brief_id}", "A brief: its text as written and its preview")
async def get_brief(call: TeamCall, body: None) -> Any:
    return br.view(await _briefs(call).get(call.team_id, _brief_id(call)))


@api.command("PATCH", "/briefs/{brief_id}", "Edit a draft brief's text; add, undo or redo "
             "replacements", body=BriefPatch)  # fmt: skip
async def patch_brief(call: TeamCall, body: BriefPatch) -> Any:
    changes = body.replacements or ReplacementChanges()
    record = await _briefs(call).change(
        call.team_id,
        _brief_id(call),
        text=body.text,
        add=[(a.original, a.replacement) for a in changes.add],
        undo=changes.undo,
        redo=changes.redo,
    )
    return br.view(record)


@api.command("POST", "/briefs/{brief_id}/publish", "Publish a brief: its anonymised text "
             "becomes final (admin)", roles=ADMINS)  # fmt: skip
async def publish_brief(call: TeamCall, body: None) -> Any:
    return br.view(await _briefs(call).publish(call.team_id, _brief_id(call), call.session.name))


@api.command("GET", "/training-responses", "The team's table of recurring finding -> "
             "training response (the defaults until an admin edits it)")  # fmt: skip
async def get_training_responses(call: TeamCall, body: None) -> Any:
    return {"responses": await _briefs(call).responses(call.team_id),
            "categories": list(bf.CATEGORIES)}  # fmt: skip


@api.command("PUT", "/training-responses", "Replace the team's table of training responses "
             "(admin)", roles=ADMINS, body=TrainingResponses)  # fmt: skip
async def put_training_responses(call: TeamCall, body: TrainingResponses) -> Any:
    rows = [r.model_dump() for r in body.responses]
    return {"responses": await _briefs(call).put_responses(call.team_id, rows),
            "categories": list(bf.CATEGORIES)}  # fmt: skip


# The two downloads are not JSON (OpenAPI states what they answer).
for _command in api.commands:
    if _command.handler is brief_markdown:
        _command.response = "text/markdown"
    elif _command.handler is brief_html:
        _command.response = "text/html"
