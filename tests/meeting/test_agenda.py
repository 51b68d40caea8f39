import pytest

from debrief.meeting import agenda as ag
from debrief.meeting.errors import Conflict, NotFound, ValidationError
from debrief.meeting.texts import PHASE_HINTS


def ids(phases: list[ag.Phase]) -> list[str]:
    return [p.id for p in phases]


def test_default_incident_template_matches_design() -> None:
    phases = ag.build_agenda()
    assert [p.title for p in phases] == [
        "Opening and ground rules",
        "Factual summary",
        "Timeline walkthrough",
        "Contributing factors",
        "What worked well",
        "Actions and owners",
        "Recap and close",
    ]
    assert [p.minutes for p in phases] == [5, 10, 15, 15, 10, 15, 5]
    assert ag.total_minutes(phases) == 75
    assert all(p.objective for p in phases)


def test_template_names_and_descriptions() -> None:
    assert ag.template_names() == ["incident", "project-phase", "launch", "recurring-pattern"]
    described = {t["name"]: t for t in ag.describe_templates()}
    assert described["incident"]["minutes"] == 75
    assert described["launch"]["title"] == "Launch review"
    assert len(described["project-phase"]["phases"]) == 7


def test_launch_template_has_standardise_phase() -> None:
    titles = [p.title.lower() for p in ag.build_agenda("launch")]
    assert any("worked so well" in t and "standardise" in t for t in titles)


@pytest.mark.parametrize("name", ["incident", "project-phase", "launch", "recurring-pattern"])
def test_templates_are_valid_and_have_hints(name: str) -> None:
    phases = ag.build_agenda(name)
    assert len(set(ids(phases))) == len(phases)
    assert ag.agenda_from_list(ag.agenda_to_list(phases)) == phases
    assert all(p.id in PHASE_HINTS for p in phases)


def test_build_agenda_unknown_template() -> None:
    with pytest.raises(NotFound, match="no agenda template 'retro'"):
        ag.build_agenda("retro")


def test_build_agenda_returns_independent_lists() -> None:
    first = ag.build_agenda()
    first.pop()
    assert len(ag.build_agenda()) == 7


def test_add_phase_appends_and_inserts_without_mutating_input() -> None:
    base = ag.build_agenda()
    added = ag.add_phase(base, "  Customer impact  ", 10, "Hear from support")
    assert len(base) == 7
    assert added[-1].title == "Customer impact"
    assert added[-1].id.startswith("p-") and added[-1].id not in ids(base)
    first = ag.add_phase(base, "Warm-up", 3, position=0, phase_id="warmup")
    assert ids(first)[:2] == ["warmup", "opening"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"title": "", "minutes": 5}, "title is required"),
        ({"title": "x" * 121, "minutes": 5}, "limit is 120"),
        ({"title": "ok", "minutes": 0}, "between 1 and 240"),
        ({"title": "ok", "minutes": 241}, "between 1 and 240"),
        ({"title": "ok", "minutes": "5"}, "whole number"),
        ({"title": "ok", "minutes": 5, "objective": "o" * 501}, "limit is 500"),
        ({"title": "ok", "minutes": 5, "position": 9}, "position must be between 0 and 7"),
        ({"title": "ok", "minutes": 5, "position": -1}, "position"),
    ],
)
def test_add_phase_validation(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        ag.add_phase(ag.build_agenda(), **kwargs)  # type: ignore[arg-type]


def test_add_phase_duplicate_id_and_limit() -> None:
    with pytest.raises(Conflict, match="already exists"):
        ag.add_phase(ag.build_agenda(), "x", 5, phase_id="opening")
    phases = ag.build_agenda()
    while len(phases) < ag.MAX_PHASES:
        phases = ag.add_phase(phases, "more", 1)
    with pytest.raises(ValidationError, match="at most 30"):
        ag.add_phase(phases, "one too many", 1)


def test_remove_phase() -> None:
    base = ag.build_agenda()
    removed = ag.remove_phase(base, "worked-well")
    assert "worked-well" not in ids(removed) and len(removed) == 6
    with pytest.raises(NotFound, match="no phase with id 'nope'"):
        ag.remove_phase(base, "nope")
    single = [ag.Phase("only", "Only", 5)]
    with pytest.raises(Conflict, match="at least one phase"):
        ag.remove_phase(single, "only")


def test_rename_retime_and_objective() -> None:
    base = ag.build_agenda()
    renamed = ag.rename_phase(base, "summary", "What happened")
    assert ag.get_phase(renamed, "summary").title == "What happened"
    assert ag.get_phase(base, "summary").title == "Factual summary"
    retimed = ag.retime_phase(base, "summary", 240)
    assert ag.get_phase(retimed, "summary").minutes == 240
    aimed = ag.set_objective(base, "summary", "")
    assert ag.get_phase(aimed, "summary").objective == ""
    with pytest.raises(ValidationError):
        ag.rename_phase(base, "summary", "   ")
    with pytest.raises(ValidationError, match="between 1 and 240"):
        ag.retime_phase(base, "summary", 0)
    with pytest.raises(ValidationError, match="whole number"):
        ag.retime_phase(base, "summary", True)
    with pytest.raises(NotFound):
        ag.retime_phase(base, "ghost", 5)
    with pytest.raises(ValidationError, match="must be text"):
        ag.set_objective(base, "summary", 42)


def test_move_phase() -> None:
    base = ag.build_agenda()
    moved = ag.move_phase(base, "close", 0)
    assert ids(moved)[0] == "close" and ids(moved)[1] == "opening"
    back = ag.move_phase(moved, "close", 6)
    assert ids(back) == ids(base)
    assert ids(ag.move_phase(base, "opening", 2))[:3] == ["summary", "timeline", "opening"]
    with pytest.raises(ValidationError, match="between 0 and 6"):
        ag.move_phase(base, "close", 7)
    with pytest.raises(NotFound):
        ag.move_phase(base, "ghost", 0)


def test_reorder_phases() -> None:
    base = ag.build_agenda()
    order = list(reversed(ids(base)))
    assert ids(ag.reorder_phases(base, order)) == order
    with pytest.raises(ValidationError, match="leaves out phase"):
        ag.reorder_phases(base, order[:-1])
    with pytest.raises(ValidationError, match="more than once"):
        ag.reorder_phases(base, [*order, order[0]])
    with pytest.raises(NotFound, match="ghost"):
        ag.reorder_phases(base, [*order[:-1], "ghost"])
    with pytest.raises(ValidationError, match="list of phase ids"):
        ag.reorder_phases(base, "opening,summary")


def test_phase_round_trip_and_bad_stored_data() -> None:
    phase = ag.Phase("x1", "Title", 7, "Why")
    assert ag.Phase.from_dict(phase.to_dict()) == phase
    with pytest.raises(ValidationError, match=r"unknown field 'phase\.colour'"):
        ag.Phase.from_dict({**phase.to_dict(), "colour": "red"})
    with pytest.raises(ValidationError, match=r"phase\.id"):
        ag.Phase.from_dict({"id": "", "title": "t", "minutes": 5})
    with pytest.raises(ValidationError, match="non-empty list"):
        ag.agenda_from_list([])
    with pytest.raises(ValidationError, match="unique"):
        ag.agenda_from_list([phase.to_dict(), phase.to_dict()])


def test_recurring_pattern_agenda_walks_the_themes_to_the_highest_friction_one() -> None:
    ranked = [(f"Theme {n}", f"in {9 - n} reviews") for n in range(1, 8)]
    phases = ag.recurring_pattern_agenda(ranked)
    walked = [p for p in phases if p.id.startswith("theme-")]
    assert [p.id for p in walked] == ["theme-5", "theme-4", "theme-3", "theme-2"]
    assert walked[0].title == "Recurring theme: Theme 5"
    top = ag.get_phase(phases, "friction")
    assert top.title == "Highest friction: Theme 1" and "in 8 reviews" in top.objective
    assert ag.index_of(phases, "friction") == ag.index_of(phases, "theme-2") + 1
    assert ag.agenda_from_list(ag.agenda_to_list(phases)) == phases
    assert ag.recurring_pattern_agenda([]) == ag.build_agenda("recurring-pattern")
    long = ag.recurring_pattern_agenda([("x" * 400, "y" * 400)])
    assert len(ag.get_phase(long, "friction").title) <= ag.MAX_TITLE
