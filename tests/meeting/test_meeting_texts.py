import re

from debrief.meeting import texts
from debrief.meeting.importers import MARKERS, SOURCES
from debrief.meeting.lint import ACTION_KINDS


def test_default_questionnaire_has_the_four_prompts() -> None:
    assert texts.DEFAULT_QUESTIONNAIRE == (
        "What went better than expected?",
        "Where did work slow down or become unclear?",
        "Which signals were available but not acted on?",
        "What should we keep, remove, or formalise next time?",
    )


def test_ground_rules_cover_the_basics() -> None:
    rules = " ".join(texts.GROUND_RULES).lower()
    for needle in ("elmo", "one person speaks at a time", "timer", "facts", "one owner"):
        assert needle in rules
    assert len(texts.GROUND_RULES) >= 5
    assert texts.OPENING_STATEMENT


def test_texts_stay_blameless() -> None:
    everything = " ".join(
        [texts.OPENING_STATEMENT, *texts.GROUND_RULES, *texts.PHASE_HINTS.values(),
         *texts.TIMELINE_QUESTIONS]
    ).lower()  # fmt: skip
    for word in ("blame", "fault of", "who caused", "why didn't you", "mistake by"):
        assert word not in everything
    assert not re.search(r"\bwhy did(n't| not) you\b", everything)


def test_vocabularies() -> None:
    assert ACTION_KINDS == (
        "immediate-remediation",
        "preventive-control",
        "monitoring",
        "documentation-ownership",
    )
    assert SOURCES == ("ticket", "log", "chat", "deploy", "alert", "decision", "handoff", "other")
    assert MARKERS == (
        "first-signal",
        "first-response",
        "handoff",
        "escalation-delay",
        "decision-under-uncertainty",
        "resolved",
    )
    assert set(texts.THEME_CATEGORY_LABELS) == {
        "process-gap", "role-ambiguity", "timing-pressure", "information-gap", "tooling", "other",
    }  # fmt: skip
    assert set(texts.NOTE_KIND_LABELS) == {
        "contributing-factor",
        "worked-well",
        "questionnaire",
        "other",
    }
