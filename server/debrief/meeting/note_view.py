"""Note sections, and what others see of a note once it is revealed (the room doc's
`notes` entries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ValidationError
from .texts import NOTE_KIND_LABELS

QUESTIONNAIRE = "questionnaire"
SECTIONS: tuple[str, ...] = tuple(NOTE_KIND_LABELS)


def check_section(section: str) -> str:
    if section not in SECTIONS:
        raise ValidationError(
            f"unknown section {section!r}; expected one of: {', '.join(SECTIONS)}",
            field="section",
        )
    return section


def public_note(
    record: Mapping[str, Any], theme_id: str | None = None, questions: Sequence[str] = ()
) -> dict[str, Any]:
    """What everyone may see of a revealed note: never its owner or its time. An answer
    to the questionnaire carries its question: prompts may be edited later."""
    note: dict[str, Any] = {
        "id": record["id"],
        "text": record["text"],
        "kind": record["kind"],
        "theme_id": theme_id,
        "prompt": record.get("prompt"),
    }
    prompt = record.get("prompt")
    if record["kind"] == QUESTIONNAIRE and isinstance(prompt, int) and 0 <= prompt < len(questions):
        note["question"] = questions[prompt]
    if not record.get("anonymous", True):
        note["author"] = record.get("author_name") or "Unnamed attendee"
    return note


def republished(record: Mapping[str, Any], shown: Mapping[str, Any]) -> dict[str, Any]:
    """A revealed note shown again after an edit: its theme and question stay as shown."""
    fresh = public_note(record, shown.get("theme_id"))
    if "question" in shown:
        fresh["question"] = shown["question"]
    return fresh
