"""A team's people: what a name, an email and a handle may be, and when two names match.

Owners were typed as free text before teams existed, so the same person shows up as
"Priya", "priya " or "PRIYA". Folding a name (cleaned, case-folded, whitespace
collapsed) is what makes them one person in the directory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from debrief.auth.names import MAX_NAME, clean_name
from debrief.meeting.errors import ValidationError

MAX_PERSON_NAME = MAX_NAME
MAX_EMAIL = 254
MAX_HANDLE = 64
PERSON_KEYS = ("name", "email", "handle")

# Deliberately loose: one @, something on both sides, a dot in the domain, no spaces.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A chat handle such as "@priya.n" or "priya_n" (the leading @ is optional).
_HANDLE = re.compile(r"^@?[\w.\-]+$")


def fold_name(name: str) -> str:
    """The form two names are compared in: "  Priya  N " and "priya n" are one person."""
    return " ".join(clean_name(name or "").casefold().split())


def validate_name(value: Any) -> str:
    """A person's shown name: cleaned like an attendee's name, and never empty."""
    if not isinstance(value, str):
        raise ValidationError("name must be text", field="name")
    if len(value) > 4 * MAX_PERSON_NAME:
        raise ValidationError(f"name is longer than {MAX_PERSON_NAME} characters", field="name")
    name = clean_name(value, MAX_PERSON_NAME)
    if not name:
        raise ValidationError("name is required", field="name")
    return name


def validate_email(value: Any) -> str:
    """An optional email address ("" for none)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("email must be text", field="email")
    email = value.strip()
    if not email:
        return ""
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise ValidationError("email does not look like an email address", field="email")
    return email


def validate_handle(value: Any) -> str:
    """An optional chat handle ("" for none): letters, digits, dots, dashes, underscores."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("handle must be text", field="handle")
    handle = value.strip()
    if not handle:
        return ""
    if len(handle) > MAX_HANDLE or not _HANDLE.match(handle):
        raise ValidationError(
            "handle may hold only letters, digits, dots, dashes and underscores "
            f"(at most {MAX_HANDLE})",
            field="handle",
        )
    return handle


def validate_person(name: Any, email: Any = "", handle: Any = "") -> dict[str, str]:
    """The checked fields of a new person."""
    return {
        "name": validate_name(name),
        "email": validate_email(email),
        "handle": validate_handle(handle),
    }


def apply_person_patch(person: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """The person with the given fields changed; an empty edit is refused."""
    unknown = sorted(set(patch) - set(PERSON_KEYS))
    if unknown:
        raise ValidationError(f"unknown field: {unknown[0]}", field=unknown[0])
    if not patch:
        raise ValidationError("the edit is empty")
    checks = {"name": validate_name, "email": validate_email, "handle": validate_handle}
    changed = dict(person)
    for key, value in patch.items():
        changed[key] = checks[key](value)
    return changed


def name_key(team_id: str, name: str) -> str:
    """The id of the record that finds a team's person by name."""
    return f"{team_id}:{fold_name(name)}"
