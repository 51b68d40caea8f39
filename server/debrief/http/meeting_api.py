"""Agenda, current phase and the timer (moderator commands that write `room.meeting`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Annotated, Any

from pycrdt import Doc, Map
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from debrief.auth.roles import DocName
from debrief.http.commands import ALL, MODERATOR, Call, CommandSet
from debrief.meeting import agenda as ag
from debrief.meeting import timer as tm
from debrief.meeting.service import meeting_state, meeting_value, now_ms

api = CommandSet("meeting")


# Bounds of every field at the HTTP edge; the agenda module checks the same limits on
# the trimmed values. A timer runs for at most a day at a time.
ID_LEN = 64
MAX_TIMER_MINUTES = 24 * 60


class ApplyTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    template: str = Field(max_length=40, description="incident, project-phase or launch")


class NewPhase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(max_length=ag.MAX_TITLE)
    minutes: int = Field(ge=ag.MIN_MINUTES, le=ag.MAX_MINUTES)
    objective: str = Field(default="", max_length=ag.MAX_OBJECTIVE)
    position: int | None = Field(
        default=None, ge=0, le=ag.MAX_PHASES, description="0-based; default: at the end"
    )


class PhaseEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(default=None, max_length=ag.MAX_TITLE)
    minutes: int | None = Field(default=None, ge=ag.MIN_MINUTES, le=ag.MAX_MINUTES)
    objective: str | None = Field(default=None, max_length=ag.MAX_OBJECTIVE)
    index: int | None = Field(
        default=None, ge=0, le=ag.MAX_PHASES, description="move the phase to this position"
    )


class PhaseOrder(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order: list[Annotated[str, Field(max_length=ID_LEN)]] = Field(max_length=ag.MAX_PHASES)


class GoToPhase(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phase_id: str = Field(max_length=ID_LEN)


class TimerStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: float | None = Field(
        default=None, gt=0, le=MAX_TIMER_MINUTES, description="default: the phase's box"
    )


class TimerExtend(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: float = Field(gt=0, le=MAX_TIMER_MINUTES, description="at most a day at a time")


def _agenda(doc: Doc) -> list[ag.Phase]:
    return ag.agenda_from_list(meeting_state(doc)["agenda"])


def _phases_with_id(doc: Doc, phase_id: str | None) -> list[ag.Phase]:
    """The agenda's phase ``phase_id`` (a list of one, or none), parsing only that one: a
    timer step or a phase change needs one phase, not the whole agenda."""
    agenda = meeting_value(doc, "agenda")
    if phase_id is None or not isinstance(agenda, list):
        return []
    found = (p for p in agenda if isinstance(p, dict) and p.get("id") == phase_id)
    return [ag.Phase.from_dict(p) for p in itertools.islice(found, 1)]


def _box_ms(doc: Doc, phase_id: str | None) -> int:
    phases = _phases_with_id(doc, phase_id)
    return phases[0].minutes * 60_000 if phases else 0


async def change_agenda(
    call: Call, edit: Callable[[list[ag.Phase]], list[ag.Phase]], template: str | None = None
) -> Any:
    """Apply a pure agenda edit; a removed current phase leaves the meeting between phases."""
    call.writable_review()

    def change(doc: Doc) -> dict[str, Any]:
        state = meeting_state(doc)
        agenda = edit(_agenda(doc))  # raises before anything is written
        meeting = doc.get("meeting", type=Map)
        meeting["agenda"] = ag.agenda_to_list(agenda)
        if template is not None:
            meeting["template"] = template
        if state["phase_id"] and all(p.id != state["phase_id"] for p in agenda):
            meeting["phase_id"] = None
            meeting["timer"] = tm.idle().to_dict()
        return {"agenda": meeting["agenda"], "total_minutes": ag.total_minutes(agenda)}

    result = await call.meeting.edit_returning(call.review_id, DocName.ROOM, change)
    if template is not None:  # the review's kind follows its template (team archive)
        await call.meeting.review_saved(await call.meeting.review(call.review_id))
    return result


@api.command("GET", "/agenda", "Read the agenda", roles=ALL)
async def get_agenda(call: Call, body: None) -> Any:
    state = await call.meeting.meeting(call.review_id)
    agenda = ag.agenda_from_list(state["agenda"])
    return {
        "agenda": ag.agenda_to_list(agenda),
        "template": state.get("template"),
        "phase_id": state["phase_id"],
        "total_minutes": ag.total_minutes(agenda),
    }


@api.command("PUT", "/agenda", "Replace the agenda with a template", roles=MODERATOR,
             body=ApplyTemplate)  # fmt: skip
async def apply_template(call: Call, body: ApplyTemplate) -> Any:
    fresh = ag.build_agenda(body.template)
    return await change_agenda(call, lambda now: ag.keep_open_actions(now, fresh), body.template)


@api.command("POST", "/agenda/phases", "Add a phase", roles=MODERATOR, body=NewPhase,
             status=201)  # fmt: skip
async def add_phase(call: Call, body: NewPhase) -> Any:
    def edit(agenda: list[ag.Phase]) -> list[ag.Phase]:
        return ag.add_phase(
            agenda, body.title, body.minutes, body.objective, position=body.position
        )

    return await change_agenda(call, edit)


@api.command("PATCH", "/agenda/phases/{phase_id}", "Rename, re-time or move a phase",
             roles=MODERATOR, body=PhaseEdit)  # fmt: skip
async def edit_phase(call: Call, body: PhaseEdit) -> Any:
    phase_id = call.request.path_params["phase_id"]

    def edit(agenda: list[ag.Phase]) -> list[ag.Phase]:
        ag.index_of(agenda, phase_id)  # 404 first, even for an empty edit
        if body.title is not None:
            agenda = ag.rename_phase(agenda, phase_id, body.title)
        if body.minutes is not None:
            agenda = ag.retime_phase(agenda, phase_id, body.minutes)
        if body.objective is not None:
            agenda = ag.set_objective(agenda, phase_id, body.objective)
        if body.index is not None:
            agenda = ag.move_phase(agenda, phase_id, body.index)
        return agenda

    return await change_agenda(call, edit)


@api.command("DELETE", "/agenda/phases/{phase_id}", "Remove a phase", roles=MODERATOR)
async def remove_phase(call: Call, body: None) -> Any:
    phase_id = call.request.path_params["phase_id"]
    return await change_agenda(call, lambda a: ag.remove_phase(a, phase_id))


@api.command("PUT", "/agenda/order", "Reorder all phases by id", roles=MODERATOR,
             body=PhaseOrder)  # fmt: skip
async def reorder(call: Call, body: PhaseOrder) -> Any:
    return await change_agenda(call, lambda a: ag.reorder_phases(a, body.order))


@api.command("POST", "/phase", "Go to a phase (forward or back); loads its time box",
             roles=MODERATOR, body=GoToPhase)  # fmt: skip
async def go_to_phase(call: Call, body: GoToPhase) -> Any:
    review = call.writable_review()
    auto_start = bool(review["settings"].get("auto_start_timer"))

    def change(doc: Doc) -> dict[str, Any]:
        phase = ag.get_phase(_phases_with_id(doc, body.phase_id), body.phase_id)
        now = now_ms()
        state = tm.reset(phase.minutes * 60_000)
        if auto_start:
            state = tm.start(state, now)
        meeting = doc.get("meeting", type=Map)
        meeting["phase_id"] = phase.id
        meeting["timer"] = state.to_dict()
        return {"phase": phase.to_dict(), "timer": tm.view(state, now)}

    return await call.meeting.edit_returning(call.review_id, DocName.ROOM, change)


async def change_timer(call: Call, step: Callable[[tm.TimerState, int, int], tm.TimerState]) -> Any:
    """Run one timer transition in server time; `step(state, now, phase_box_ms)`."""
    call.writable_review()

    def change(doc: Doc) -> dict[str, Any]:
        now = now_ms()
        current = tm.TimerState.from_dict(meeting_value(doc, "timer"))
        fresh = step(current, now, _box_ms(doc, meeting_value(doc, "phase_id")))
        doc.get("meeting", type=Map)["timer"] = fresh.to_dict()
        return {"timer": tm.view(fresh, now)}

    return await call.meeting.edit_returning(call.review_id, DocName.ROOM, change)


def _minutes_ms(minutes: float | None, fallback: int) -> int | None:
    if minutes is None:
        return fallback or None
    return round(minutes * 60_000)


@api.command("GET", "/timer", "Read the timer with the server's now", roles=ALL)
async def get_timer(call: Call, body: None) -> Any:
    state = await call.meeting.meeting(call.review_id)
    return {"timer": tm.view(tm.TimerState.from_dict(state["timer"]), now_ms())}


@api.command("POST", "/timer/start", "Start the timer (default: the phase's time box)",
             roles=MODERATOR, body=TimerStart)  # fmt: skip
async def timer_start(call: Call, body: TimerStart) -> Any:
    return await change_timer(
        call, lambda s, now, box: tm.start(s, now, _minutes_ms(body.minutes, box))
    )


@api.command("POST", "/timer/pause", "Pause the timer", roles=MODERATOR)
async def timer_pause(call: Call, body: None) -> Any:
    return await change_timer(call, lambda s, now, box: tm.pause(s, now))


@api.command("POST", "/timer/resume", "Resume a paused timer", roles=MODERATOR)
async def timer_resume(call: Call, body: None) -> Any:
    return await change_timer(call, lambda s, now, box: tm.resume(s, now))


@api.command("POST", "/timer/extend", "Add minutes to the timer (no cap)", roles=MODERATOR,
             body=TimerExtend)  # fmt: skip
async def timer_extend(call: Call, body: TimerExtend) -> Any:
    return await change_timer(call, lambda s, now, box: tm.extend(s, now, minutes=body.minutes))


@api.command("POST", "/timer/reset", "Stop and reload the phase's time box", roles=MODERATOR)
async def timer_reset(call: Call, body: None) -> Any:
    return await change_timer(call, lambda s, now, box: tm.reset(box) if box else tm.idle())


async def agenda_templates(request: Request) -> Response:
    """Public: the templates a moderator can pick from."""
    return JSONResponse({"templates": ag.describe_templates()})


public_routes = [Route("/api/agenda/templates", agenda_templates, methods=["GET"])]
