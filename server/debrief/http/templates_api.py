"""Saved agendas: a moderator keeps a review's agenda (phases, time boxes) and its
pre-meeting questionnaire as a named template, and starts later reviews from it.

Saved templates are shared by everyone who moderates on this server (teams, when they
come, will scope them). The built-in templates stay in meeting/agenda.py.
"""

from __future__ import annotations

import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from debrief.http.commands import MODERATOR, Call, CommandSet
from debrief.http.meeting_api import change_agenda
from debrief.meeting import agenda as ag
from debrief.meeting import docdata as dd
from debrief.meeting import review as rv
from debrief.meeting.errors import Conflict, NotFound
from debrief.meeting.service import now_ms
from debrief.meeting.values import clean_text
from debrief.teams.keys import DEFAULT_TEAM_ID, team_of

api = CommandSet("templates")

TEMPLATE = "agenda-template"
# Records are listed per review; a saved template belongs to a team's library instead.
# "_templates" is where templates went before teams: the default team's library reads it.
LEGACY_LIBRARY = "_templates"


def library(team_id: str) -> str:
    return f"templates:{team_id}"


async def team_of_call(call: Call) -> str:
    return team_of(await call.meeting.review(call.review_id))


async def saved_templates(call: Call, team_id: str) -> list[dict[str, Any]]:
    saved = await call.svc.storage.list_records(TEMPLATE, library(team_id))
    if team_id == DEFAULT_TEAM_ID:
        saved = await call.svc.storage.list_records(TEMPLATE, LEGACY_LIBRARY) + saved
    return saved


async def own_template(call: Call, template_id: str) -> dict[str, Any]:
    """A template of this review's team; 404 for any other (they are the team's own)."""
    record = await call.svc.storage.get_record(TEMPLATE, template_id)
    if record is None or str(record.get("team_id") or DEFAULT_TEAM_ID) != await team_of_call(call):
        raise NotFound("there is no such template", error="unknown-template")
    return record


MAX_TEMPLATES = 200
MAX_NAME = 80


class SaveTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=4 * MAX_NAME)


def summary(record: dict[str, Any]) -> dict[str, Any]:
    """A saved template as a picker shows it (any stored shape reads)."""
    phases = [p for p in dd.items(record.get("agenda")) if isinstance(p, dict)]
    return {
        "id": dd.text(record.get("id")),
        "name": dd.text(record.get("name")),
        "phases": len(phases),
        "minutes": sum(dd.count(p.get("minutes")) for p in phases),
        "questions": len(dd.texts(record.get("questionnaire"))),
    }


@api.command("POST", "/templates", "Save this review's agenda and questionnaire as a "
             "template", roles=MODERATOR, body=SaveTemplate, status=201)  # fmt: skip
async def save_template(call: Call, body: SaveTemplate) -> Any:
    name = clean_text(body.name, "name", max_len=MAX_NAME, min_len=1)
    review = await call.meeting.review(call.review_id)
    state = await call.meeting.meeting(call.review_id)
    team_id = team_of(review)
    saved = await saved_templates(call, team_id)
    if len(saved) >= MAX_TEMPLATES:
        raise Conflict(f"at most {MAX_TEMPLATES} templates can be saved", error="templates-full")
    template_id = "tp_" + secrets.token_urlsafe(9)
    record: dict[str, Any] = {
        "id": template_id,
        "name": name,
        "agenda": ag.agenda_to_list(ag.agenda_from_list(state["agenda"])),
        "questionnaire": list(review.get("questionnaire") or []),
        "created_ms": now_ms(),
        "team_id": team_id,
    }
    await call.svc.storage.put_record(TEMPLATE, template_id, record, library(team_id))
    return summary(record)


@api.command("GET", "/templates", "The saved templates of this review's team", roles=MODERATOR)
async def list_templates(call: Call, body: None) -> Any:
    saved = await saved_templates(call, await team_of_call(call))
    return {"templates": [summary(r) for r in saved]}


@api.command("POST", "/templates/{template_id}/apply", "Replace this review's agenda and "
             "questionnaire with a saved template", roles=MODERATOR)  # fmt: skip
async def apply_saved(call: Call, body: None) -> Any:
    template_id = call.request.path_params["template_id"]
    record = await own_template(call, template_id)
    agenda = ag.agenda_from_list(record.get("agenda"))  # checked again: stored data
    async with call.meeting.lock(call.review_id):
        review = await call.meeting.writable_review(call.review_id)
        patch = {"questionnaire": dd.texts(record.get("questionnaire"))}
        await call.meeting.save_review(rv.apply_review_patch(review, patch))
    return await change_agenda(
        call, lambda now: ag.keep_open_actions(now, agenda), "saved:" + template_id
    )


@api.command("DELETE", "/templates/{template_id}", "Delete a saved template", roles=MODERATOR)
async def delete_template(call: Call, body: None) -> Any:
    template_id = call.request.path_params["template_id"]
    await own_template(call, template_id)
    if not await call.svc.storage.delete_record(TEMPLATE, template_id):
        raise NotFound("there is no such template", error="unknown-template")
    return {"deleted": template_id}
