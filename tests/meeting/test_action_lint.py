from datetime import date

import pytest

from debrief.meeting.errors import ValidationError
from debrief.meeting.lint import (
    ACTION_KINDS,
    LintProblem,
    is_clean,
    lint_action,
    lint_actions,
    problems_to_dict,
)

TODAY = date(2025, 3, 10)
GOOD = {
    "id": "a1",
    "what": "Add a required approval step to the release workflow before sign-off",
    "owner": "Priya (ops manager)",
    "due": "2025-03-31",
    "verify": "The next two releases show the approval step ticked in the release log",
    "kind": "preventive-control",
}


def codes(item: dict[str, object]) -> list[str]:
    return [p.code for p in lint_action(item, TODAY)]


def only(item: dict[str, object]) -> LintProblem:
    problems = lint_action(item, TODAY)
    assert len(problems) == 1, problems
    return problems[0]


def test_good_action_is_clean() -> None:
    assert lint_action(GOOD, TODAY) == []
    assert is_clean(lint_action(GOOD, TODAY))


def test_empty_action_lists_every_missing_field_in_order() -> None:
    assert codes({}) == [
        "missing-what",
        "missing-owner",
        "missing-due",
        "missing-verification",
        "missing-kind",
    ]
    assert [p.field for p in lint_action({}, TODAY)] == ["what", "owner", "due", "verify", "kind"]


@pytest.mark.parametrize("owner", ["", "  ", "TBD", "?", "n/a", "someone", None, 42])
def test_missing_owner(owner: object) -> None:
    problem = only({**GOOD, "owner": owner})
    assert problem.code == "missing-owner"
    assert "Priya (ops manager)" in problem.hint


@pytest.mark.parametrize(
    "owner",
    [
        "Ops team",
        "the team",
        "We",
        "us",
        "everyone",
        "All",
        "Priya and Sam",
        "Priya AND Sam",
        "Priya & Sam",
        "Priya/Sam",
        "Priya + Sam",
        "Priya, Sam, Lee",
        "Priya or Sam",
        "@platform-team",
        "whoever is on call",
        "SRE on-call",
    ],
)
def test_shared_owner_detected(owner: str) -> None:
    problem = only({**GOOD, "owner": owner})
    assert problem.code == "shared-owner"
    assert problem.field == "owner"
    assert "one person" in problem.hint


@pytest.mark.parametrize(
    "owner",
    [
        "Anderson",
        "Weston Allbright",
        "Orla",
        "Usha",
        "Teamus Brandt",
        "Sam (team lead)",
        "Ops team lead",
        "Priya (ops / infra)",
        "priya@ops-team.example.com",
        "Andrea O'Neil-Andrews",
        "Ünal Şahin",
    ],
)
def test_single_owner_no_false_positive(owner: str) -> None:
    assert lint_action({**GOOD, "owner": owner}, TODAY) == []


def test_shared_owner_hint_suggests_first_name() -> None:
    assert "'Priya'" in only({**GOOD, "owner": "Priya and Sam"}).hint


def test_comma_role_hint_shows_bracket_form() -> None:
    problem = only({**GOOD, "owner": "Priya, ops manager"})
    assert problem.code == "shared-owner"
    assert "'Priya (ops manager)'" in problem.hint


def test_team_owner_message_names_the_word() -> None:
    problem = only({**GOOD, "owner": "Platform team"})
    assert "'team'" in problem.message


@pytest.mark.parametrize("due", [None, "", "tbd"])
def test_missing_due(due: object) -> None:
    problem = only({**GOOD, "due": due})
    assert problem.code == "missing-due"
    assert "2025-03-24" in problem.hint  # an example two weeks ahead


@pytest.mark.parametrize("due", ["next week", "31/03/2025", "2025-02-30", 20250331])
def test_bad_due(due: object) -> None:
    assert only({**GOOD, "due": due}).code == "bad-due"


def test_past_and_today_due() -> None:
    problem = only({**GOOD, "due": "2025-03-09"})
    assert problem.code == "past-due"
    assert "2025-03-09" in problem.message
    assert lint_action({**GOOD, "due": "2025-03-10"}, TODAY) == []
    assert lint_action({**GOOD, "due": date(2025, 4, 1)}, TODAY) == []
    assert lint_action({**GOOD, "due": "2025-04-01T09:00:00Z"}, TODAY) == []


@pytest.mark.parametrize("verify", ["", None, "TBD", "done", "-"])
def test_missing_verification(verify: object) -> None:
    problem = only({**GOOD, "verify": verify})
    assert problem.code == "missing-verification"
    assert problem.field == "verify"


def test_kind() -> None:
    for kind in ACTION_KINDS:
        assert lint_action({**GOOD, "kind": kind}, TODAY) == []
    assert only({**GOOD, "kind": ""}).code == "missing-kind"
    unknown = only({**GOOD, "kind": "nice-to-have"})
    assert unknown.code == "bad-kind"
    assert "preventive-control" in unknown.hint
    spaced = only({**GOOD, "kind": "Preventive control"})
    assert spaced.code == "bad-kind"
    assert spaced.hint == "Write it as 'preventive-control'."


@pytest.mark.parametrize(
    ("what", "phrase"),
    [
        ("Improve communication between support and ops", "Improve communication"),
        ("Be more careful with approvals", "Be more careful"),
        ("Look into the alerting gaps", "Look into"),
        ("Investigate the flaky deploy", "Investigate"),
        ("Try to deploy earlier in the week", "Try to"),
        ("Make monitoring better", "better"),
        ("Make the pipeline more robust", "more robust"),
        ("Add dashboards as needed", "as needed"),
        ("Ensure backups run", "Ensure"),
        ("Consider a second approver", "Consider"),
        ("Update the runbook etc.", "etc"),
    ],
)
def test_vague_wording(what: str, phrase: str) -> None:
    problem = only({**GOOD, "what": what})
    assert problem.code == "vague-wording"
    assert problem.field == "what"
    assert f"'{phrase}'" in problem.message
    assert problem.hint


def test_vague_wording_hint_shows_rewritten_example() -> None:
    hint = only({**GOOD, "what": "Try to deploy earlier in the week"}).hint
    assert "'Deploy earlier in the week'" in hint
    hint = only({**GOOD, "what": "Improve communication with support"}).hint
    assert "e.g. '" in hint and "status update" in hint


def test_several_vague_phrases_each_reported_once() -> None:
    problems = lint_action({**GOOD, "what": "Look into it and try to be more careful"}, TODAY)
    assert [p.code for p in problems] == ["vague-wording"] * 3
    messages = " ".join(p.message for p in problems)
    assert "'Look into'" in messages and "'try to'" in messages and "'be more careful'" in messages


def test_be_more_careful_is_not_double_reported() -> None:
    problems = lint_action({**GOOD, "what": "Be more careful"}, TODAY)
    assert len(problems) == 1


@pytest.mark.parametrize(
    "what",
    [
        "Add a betterment-fund alert",
        "Page on-call when error rate exceeds 2% for five minutes",
        "Publish an ensemble test report after each release",
        "Add a robustness test for the retry queue",
    ],
)
def test_concrete_wording_not_flagged(what: str) -> None:
    assert lint_action({**GOOD, "what": what}, TODAY) == []


def test_lint_actions_keys_by_id_or_index() -> None:
    result = lint_actions([GOOD, {**GOOD, "id": "", "owner": "we"}, {**GOOD, "id": "b"}], TODAY)
    assert list(result) == ["a1", "1", "b"]
    assert result["a1"] == [] and result["b"] == []
    assert [p.code for p in result["1"]] == ["shared-owner"]
    assert not is_clean(result)
    assert is_clean(lint_actions([GOOD], TODAY))
    assert is_clean(lint_actions([], TODAY))


def test_problems_to_dict_is_json_ready() -> None:
    result = problems_to_dict(lint_actions([{**GOOD, "due": "2020-01-01"}], TODAY))
    assert result == {
        "a1": [
            {
                "code": "past-due",
                "field": "due",
                "message": "The due date 2020-01-01 has passed.",
                "hint": "Pick a date from today on, e.g. '2025-03-24'.",
            }
        ]
    }


def test_non_dict_action_is_refused() -> None:
    with pytest.raises(ValidationError):
        lint_action(["what"], TODAY)  # type: ignore[arg-type]
