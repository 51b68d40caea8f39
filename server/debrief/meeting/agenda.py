"""Agenda: an ordered list of time-boxed phases, built from templates and edited by ops.

Every operation is pure: it takes an agenda (list of `Phase`) and returns a new list,
leaving the input untouched, so the caller can validate first and write to the shared
doc only when nothing was refused.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from .errors import Conflict, NotFound, ValidationError
from .values import check_int, check_keys, clean_text

MIN_MINUTES = 1
MAX_MINUTES = 240
MAX_TITLE = 120
MAX_OBJECTIVE = 500
MAX_PHASES = 30
DEFAULT_TEMPLATE = "incident"
# A review that carries over earlier actions starts by walking them (http/carryover_api.py).
OPEN_ACTIONS_ID = "open-actions"
RECURRING_PATTERN = "recurring-pattern"


@dataclass(frozen=True)
class Phase:
    """One time-boxed step of the meeting."""

    id: str
    title: str
    minutes: int
    objective: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "minutes": self.minutes,
            "objective": self.objective,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Phase:
        """Build a phase from stored/received data, validating every field."""
        data = check_keys(data, "phase", ("id", "title", "minutes", "objective"))
        phase_id = data.get("id")
        if not isinstance(phase_id, str) or not phase_id.strip() or len(phase_id) > 64:
            raise ValidationError("phase.id must be a short non-empty string", field="phase.id")
        return cls(
            id=phase_id,
            title=_check_title(data.get("title")),
            minutes=_check_minutes(data.get("minutes")),
            objective=_check_objective(data.get("objective", "")),
        )


# (slug, title, minutes, objective). Slugs double as ids and as keys of texts.PHASE_HINTS.
_TemplateRow = tuple[str, str, int, str]

TEMPLATES: dict[str, tuple[str, tuple[_TemplateRow, ...]]] = {
    "incident": (
        "Incident review",
        (
            ("opening", "Opening and ground rules", 5,
             "Set a blameless tone, restate the scope and why we are meeting"),
            ("summary", "Factual summary", 10,
             "Agree on the event, its impact and the limits of this review"),
            ("timeline", "Timeline walkthrough", 15,
             "Rebuild the sequence of events from the evidence"),
            ("factors", "Contributing factors", 15,
             "Find the process, communication, tooling and decision conditions involved"),
            ("worked-well", "What worked well", 10,
             "Record practices worth repeating"),
            ("actions", "Actions and owners", 15,
             "Turn findings into changes with one owner and a due date each"),
            ("close", "Recap and close", 5,
             "Confirm the recap, who keeps the record and how we follow up"),
        ),
    ),
    "project-phase": (
        "Project phase review",
        (
            ("opening", "Opening and ground rules", 5,
             "Set a blameless tone and restate which phase we are reviewing"),
            ("goals", "Goals against results", 10,
             "Compare planned scope, time and cost with what happened"),
            ("timeline", "How the phase unfolded", 15,
             "Walk the key decisions, handoffs and dependencies in order"),
            ("factors", "Contributing factors", 15,
             "Find where ownership, information or timing made work harder"),
            ("worked-well", "What worked well", 10,
             "Record practices the next phase should keep"),
            ("next-phase", "Adjustments for the next phase", 15,
             "Agree changes with one owner and a due date each"),
            ("close", "Recap and close", 5,
             "Confirm the recap and when we check progress again"),
        ),
    ),
    "launch": (
        "Launch review",
        (
            ("opening", "Opening and ground rules", 5,
             "Set a blameless tone and restate the launch under review"),
            ("results", "Launch results against plan", 10,
             "Compare readiness, timing and outcomes with the plan"),
            ("timeline", "Road to launch", 15,
             "Walk the path from readiness checks to go-live in order"),
            ("standardise", "What worked so well we should standardise it", 15,
             "Pick the practices that should become the normal way to launch"),
            ("slowdowns", "Where work slowed down or became unclear", 15,
             "Find gaps in handoffs, approvals and information flow"),
            ("actions", "Actions and owners", 10,
             "Turn findings into changes with one owner and a due date each"),
            ("close", "Recap and close", 5,
             "Confirm the recap and who keeps the launch checklist current"),
        ),
    ),
    # The quarterly review (scope kind "recurring pattern"): built for its covered
    # reviews by `recurring_pattern_agenda`, which names the recurring themes.
    RECURRING_PATTERN: (
        "Quarterly review of recurring patterns",
        (
            ("opening", "Opening and ground rules", 5,
             "Set a blameless tone and restate which reviews and period we cover"),
            ("insights", "The period in figures", 10,
             "Read the categories, follow-through and timeline figures of the covered reviews"),
            ("themes", "Recurring themes", 20,
             "Walk the themes that came back across reviews, lowest friction first"),
            ("friction", "The highest-friction theme", 15,
             "Agree which recurring theme costs the team most, and why"),
            ("asset", "One training or documentation asset", 15,
             "Choose one practical asset built from real scenarios, anonymised where needed"),
            ("actions", "Actions and owners", 10,
             "Give the asset one owner, a due date and a way to tell it worked"),
            ("close", "Recap and close", 5,
             "Confirm the recap and when the team looks at these themes again"),
        ),
    ),
}  # fmt: skip
MAX_WALKED_THEMES = 4  # recurring themes walked before the highest-friction one


def template_names() -> list[str]:
    """Names accepted by `build_agenda`, default first."""
    return list(TEMPLATES)


def describe_templates() -> list[dict[str, Any]]:
    """Templates as plain data for a picker: name, title, total minutes and phases."""
    result = []
    for name, (title, rows) in TEMPLATES.items():
        phases = [p.to_dict() for p in build_agenda(name)]
        result.append(
            {"name": name, "title": title, "minutes": sum(r[2] for r in rows), "phases": phases}
        )
    return result


def build_agenda(template: str = DEFAULT_TEMPLATE, *, open_actions: bool = False) -> list[Phase]:
    """A fresh agenda from a template; phase ids are the template slugs. With
    `open_actions`, the meeting first walks the actions carried over from earlier reviews."""
    if template not in TEMPLATES:
        raise NotFound(
            f"no agenda template {template!r}; choose one of: {', '.join(TEMPLATES)}",
            error="unknown-template",
        )
    phases = [
        Phase(slug, title, minutes, obj) for slug, title, minutes, obj in TEMPLATES[template][1]
    ]
    return with_open_actions(phases) if open_actions else phases


def recurring_pattern_agenda(ranked: Sequence[tuple[str, str]]) -> list[Phase]:
    """The quarterly review's agenda for recurring themes ranked by friction (highest
    first; each (name, reason)): one phase per theme walked, lowest friction first, up
    to the highest-friction one, whose phase names it and the numbers that put it first.
    Without recurring themes, the plain template."""
    phases = build_agenda(RECURRING_PATTERN)
    if not ranked:
        return phases
    walked = list(ranked[1 : 1 + MAX_WALKED_THEMES])[::-1]
    themes = [
        Phase(f"theme-{len(walked) - i + 1}", _fit(f"Recurring theme: {name}", MAX_TITLE), 5,
              _fit(f"{name} — {reason}. What do these reviews have in common?", MAX_OBJECTIVE))
        for i, (name, reason) in enumerate(walked)
    ]  # fmt: skip
    top, why = ranked[0]
    result: list[Phase] = []
    for phase in phases:
        if phase.id == "themes":
            result.extend(themes)
        elif phase.id == "friction":
            title = _fit(f"Highest friction: {top}", MAX_TITLE)
            objective = _fit(f"{top} — {why}. Agree why it costs most and what would help.",
                             MAX_OBJECTIVE)  # fmt: skip
            result.append(replace(phase, title=title, objective=objective))
        else:
            result.append(phase)
    return result


def _fit(text: str, limit: int) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def open_actions_phase() -> Phase:
    """The phase that walks earlier reviews' actions still waiting on someone."""
    return Phase(
        OPEN_ACTIONS_ID,
        "Open actions from earlier reviews",
        10,
        "Walk the open and overdue actions of earlier reviews and update where each stands",
    )


def with_open_actions(agenda: Sequence[Phase]) -> list[Phase]:
    """The agenda with the open-actions phase first (moved there if already present)."""
    rest = [p for p in agenda if p.id != OPEN_ACTIONS_ID]
    found = [p for p in agenda if p.id == OPEN_ACTIONS_ID]
    return [found[0] if found else open_actions_phase(), *rest][:MAX_PHASES]


def keep_open_actions(current: Sequence[Phase], fresh: Sequence[Phase]) -> list[Phase]:
    """A new agenda (e.g. another template) that keeps the open-actions phase when the
    current agenda has one: switching templates must not drop the carried actions."""
    if any(p.id == OPEN_ACTIONS_ID for p in current) and not any(
        p.id == OPEN_ACTIONS_ID for p in fresh
    ):
        return [get_phase(current, OPEN_ACTIONS_ID), *fresh][:MAX_PHASES]
    return list(fresh)


def new_phase_id(existing: Sequence[Phase] = ()) -> str:
    """A short random id that does not collide with the agenda's ids."""
    taken = {p.id for p in existing}
    while True:
        candidate = "p-" + secrets.token_hex(4)
        if candidate not in taken:
            return candidate


def total_minutes(agenda: Sequence[Phase]) -> int:
    """Sum of all time boxes."""
    return sum(p.minutes for p in agenda)


def index_of(agenda: Sequence[Phase], phase_id: str) -> int:
    """Position of a phase; NotFound when the id is not in the agenda."""
    for i, phase in enumerate(agenda):
        if phase.id == phase_id:
            return i
    raise NotFound(f"no phase with id {phase_id!r} in this agenda", error="unknown-phase")


def get_phase(agenda: Sequence[Phase], phase_id: str) -> Phase:
    """The phase with this id; NotFound otherwise."""
    return agenda[index_of(agenda, phase_id)]


def add_phase(
    agenda: Sequence[Phase],
    title: Any,
    minutes: Any,
    objective: Any = "",
    *,
    position: int | None = None,
    phase_id: str | None = None,
) -> list[Phase]:
    """Insert a new phase at `position` (0-based; None or len(agenda) appends)."""
    if len(agenda) >= MAX_PHASES:
        raise ValidationError(f"an agenda can hold at most {MAX_PHASES} phases", field="phases")
    if position is None:
        position = len(agenda)
    position = check_int(position, "position", low=0, high=len(agenda))
    if phase_id is None:
        phase_id = new_phase_id(agenda)
    elif any(p.id == phase_id for p in agenda):
        raise Conflict(f"a phase with id {phase_id!r} already exists", error="duplicate-phase")
    phase = Phase(
        phase_id, _check_title(title), _check_minutes(minutes), _check_objective(objective)
    )
    result = list(agenda)
    result.insert(position, phase)
    return result


def remove_phase(agenda: Sequence[Phase], phase_id: str) -> list[Phase]:
    """Drop a phase; the last remaining phase cannot be removed."""
    index = index_of(agenda, phase_id)
    if len(agenda) == 1:
        raise Conflict("an agenda needs at least one phase", error="last-phase")
    return [p for i, p in enumerate(agenda) if i != index]


def rename_phase(agenda: Sequence[Phase], phase_id: str, title: Any) -> list[Phase]:
    """Give a phase a new title."""
    return _update(agenda, phase_id, title=_check_title(title))


def retime_phase(agenda: Sequence[Phase], phase_id: str, minutes: Any) -> list[Phase]:
    """Change a phase's time box (MIN_MINUTES..MAX_MINUTES)."""
    return _update(agenda, phase_id, minutes=_check_minutes(minutes))


def set_objective(agenda: Sequence[Phase], phase_id: str, objective: Any) -> list[Phase]:
    """Change what a phase is meant to achieve (may be empty)."""
    return _update(agenda, phase_id, objective=_check_objective(objective))


def move_phase(agenda: Sequence[Phase], phase_id: str, index: Any) -> list[Phase]:
    """Move a phase so that it ends up at `index` (0-based) in the result."""
    current = index_of(agenda, phase_id)
    target = check_int(index, "index", low=0, high=len(agenda) - 1)
    result = list(agenda)
    result.insert(target, result.pop(current))
    return result


def reorder_phases(agenda: Sequence[Phase], order: Any) -> list[Phase]:
    """Rearrange by a full list of ids: every current id exactly once, nothing else."""
    if not isinstance(order, list | tuple) or not all(isinstance(i, str) for i in order):
        raise ValidationError("order must be a list of phase ids", field="order")
    known = [p.id for p in agenda]
    unknown = [i for i in order if i not in known]
    if unknown:
        raise NotFound(f"unknown phase id(s) in order: {', '.join(unknown)}", error="unknown-phase")
    if len(set(order)) != len(order):
        raise ValidationError("order lists a phase more than once", field="order")
    missing = [i for i in known if i not in order]
    if missing:
        raise ValidationError(f"order leaves out phase(s): {', '.join(missing)}", field="order")
    by_id = {p.id: p for p in agenda}
    return [by_id[i] for i in order]


def agenda_to_list(agenda: Sequence[Phase]) -> list[dict[str, Any]]:
    """JSON-ready form for the `room` doc."""
    return [p.to_dict() for p in agenda]


def agenda_from_list(data: Any) -> list[Phase]:
    """Rebuild and validate an agenda read from the `room` doc or a request."""
    if not isinstance(data, list) or not data:
        raise ValidationError("an agenda is a non-empty list of phases", field="phases")
    if len(data) > MAX_PHASES:
        raise ValidationError(f"an agenda can hold at most {MAX_PHASES} phases", field="phases")
    phases = [Phase.from_dict(item) for item in data]
    if len({p.id for p in phases}) != len(phases):
        raise ValidationError("phase ids must be unique", field="phases")
    return phases


def _update(agenda: Sequence[Phase], phase_id: str, **changes: Any) -> list[Phase]:
    index = index_of(agenda, phase_id)
    result = list(agenda)
    result[index] = replace(result[index], **changes)
    return result


def _check_title(value: Any) -> str:
    return clean_text(value, "title", max_len=MAX_TITLE, min_len=1, single_line=True)


def _check_minutes(value: Any) -> int:
    return check_int(value, "minutes", low=MIN_MINUTES, high=MAX_MINUTES)


def _check_objective(value: Any) -> str:
    return clean_text(value, "objective", max_len=MAX_OBJECTIVE, single_line=True)
