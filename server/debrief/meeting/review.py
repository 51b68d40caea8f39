"""Review fields: validation of edits and the status lifecycle.

A review is a plain dict (see `new_review`). Edits arrive as partial patches; scope and
settings may be patched key by key. Unknown fields are refused by name, so a typo in a
client never silently drops data.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import Conflict, ValidationError
from .texts import DEFAULT_QUESTIONNAIRE, STATUS_LABELS
from .values import (
    check_bool,
    check_int,
    check_keys,
    clean_text,
    is_http_url,
    normalize_time,
    parse_time,
)

STATUSES: tuple[str, ...] = tuple(STATUS_LABELS)
# draft -> scheduled -> live -> closed; draft may go live at once, and a scheduled
# review may go back to draft (e.g. the meeting was called off). Closed is final.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("scheduled", "live"),
    "scheduled": ("live", "draft"),
    "live": ("closed",),
    "closed": (),
}

MAX_TITLE = 200
MAX_SCOPE_TEXT = 2_000
MAX_METRICS = 50
MAX_LINKS = 100
MAX_PROMPTS = 10
MAX_PROMPT = 300
MAX_VALUE_TEXT = 100

PATCH_KEYS = (
    "title",
    "scope",
    "baseline_metrics",
    "evidence_links",
    "settings",
    "questionnaire",
    "schedule",
    "attendees",
    "recap_recipients",
)
# Delivery (issue 13): when the meeting is, who is invited, who only gets the recap.
SCHEDULE_KEYS = ("starts_at", "minutes")
MAX_MEETING_MINUTES = 24 * 60
MAX_ATTENDEES = 100
MAX_RECAP_RECIPIENTS = 100
MAX_EMAIL = 254
MAX_PERSON_ID = 64
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PERSON_ID = re.compile(r"^pe_[A-Za-z0-9_-]+$")
SCOPE_KEYS = ("event", "question", "window_start", "window_end", "expected_output")
METRIC_KEYS = ("name", "planned", "actual", "unit")
LINK_KEYS = ("url", "title")
DEFAULT_SETTINGS: dict[str, Any] = {
    "votes_per_person": 3,
    "hide_counts_until_closed": True,
    "anonymous": True,
    "leaders_last": False,
    "auto_start_timer": False,
}


def new_review(title: Any) -> dict[str, Any]:
    """A fresh draft review with default settings and questionnaire."""
    return {
        "title": validate_title(title),
        "status": "draft",
        "scope": dict.fromkeys(SCOPE_KEYS, ""),
        "baseline_metrics": [],
        "evidence_links": [],
        "settings": dict(DEFAULT_SETTINGS),
        "questionnaire": list(DEFAULT_QUESTIONNAIRE),
        "schedule": None,
        "attendees": [],
        "recap_recipients": [],
    }


def validate_review_patch(patch: Any, current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check a partial edit and return it normalised (only the keys it contained).

    `current` (the stored review) lets cross-field rules see the other half, e.g. a new
    window_end is compared with the stored window_start.
    """
    if "status" in (patch if isinstance(patch, dict) else {}):
        raise ValidationError("status is changed through its own command, not by editing",
                              field="status")  # fmt: skip
    patch = check_keys(patch, "", PATCH_KEYS)
    if not patch:
        raise ValidationError("the edit is empty")
    result: dict[str, Any] = {}
    if "title" in patch:
        result["title"] = validate_title(patch["title"])
    if "scope" in patch:
        stored = current.get("scope", {}) if current else {}
        result["scope"] = validate_scope(patch["scope"], stored)
    if "baseline_metrics" in patch:
        result["baseline_metrics"] = validate_metrics(patch["baseline_metrics"])
    if "evidence_links" in patch:
        result["evidence_links"] = validate_links(patch["evidence_links"])
    if "settings" in patch:
        result["settings"] = validate_settings(patch["settings"])
    if "questionnaire" in patch:
        result["questionnaire"] = validate_questionnaire(patch["questionnaire"])
    if "schedule" in patch:
        result["schedule"] = validate_schedule(patch["schedule"])
    if "attendees" in patch:
        result["attendees"] = validate_attendees(patch["attendees"])
    if "recap_recipients" in patch:
        result["recap_recipients"] = validate_recap_recipients(patch["recap_recipients"])
    return result


def apply_review_patch(review: Mapping[str, Any], patch: Any) -> dict[str, Any]:
    """Validate `patch` against `review` and return the edited copy; closed is read-only."""
    if review.get("status") == "closed":
        raise Conflict("this review is closed and can no longer be edited", error="review-closed")
    clean = validate_review_patch(patch, review)
    result = dict(review)
    for key, value in clean.items():
        if key in ("scope", "settings"):
            result[key] = {**review.get(key, {}), **value}
        else:
            result[key] = value
    return result


def validate_title(value: Any) -> str:
    """1..200 characters on one line."""
    return clean_text(value, "title", max_len=MAX_TITLE, min_len=1, single_line=True)


def validate_scope(data: Any, stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check the scope keys given; times become ISO UTC ('' clears them)."""
    data = check_keys(data, "scope", SCOPE_KEYS)
    result: dict[str, Any] = {}
    for key, value in data.items():
        field = f"scope.{key}"
        if key.startswith("window_"):
            if value in (None, ""):
                result[key] = ""
                continue
            try:
                result[key] = normalize_time(value)
            except ValueError as exc:
                raise ValidationError(f"{field}: {exc}", field=field) from None
        else:
            result[key] = clean_text(value, field, max_len=MAX_SCOPE_TEXT)
    merged = {**(stored or {}), **result}
    start, end = merged.get("window_start"), merged.get("window_end")
    if start and end and parse_time(end) <= parse_time(start):
        raise ValidationError(
            "scope.window_end must be after scope.window_start", field="scope.window_end"
        )
    return result


def validate_metrics(data: Any) -> list[dict[str, Any]]:
    """Baseline metrics: name, planned, actual, unit; values are numbers or short text."""
    if not isinstance(data, list):
        raise ValidationError("baseline_metrics must be a list", field="baseline_metrics")
    if len(data) > MAX_METRICS:
        raise ValidationError(f"at most {MAX_METRICS} baseline metrics", field="baseline_metrics")
    result = []
    for index, item in enumerate(data):
        prefix = f"baseline_metrics[{index}]"
        item = check_keys(item, prefix, METRIC_KEYS)
        result.append(
            {
                "name": clean_text(
                    item.get("name"), f"{prefix}.name", max_len=200, min_len=1, single_line=True
                ),
                "planned": _metric_value(item.get("planned"), f"{prefix}.planned"),
                "actual": _metric_value(item.get("actual"), f"{prefix}.actual"),
                "unit": clean_text(
                    item.get("unit"), f"{prefix}.unit", max_len=40, single_line=True
                ),
            }
        )
    return result


def _metric_value(value: Any, field: str) -> int | float | str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{field} must be a number or text", field=field)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValidationError(f"{field} must be a finite number", field=field)
        return value
    return clean_text(value, field, max_len=MAX_VALUE_TEXT, single_line=True) or None


def validate_links(data: Any) -> list[dict[str, str]]:
    """Evidence links: http(s) URLs only; the title defaults to the URL."""
    if not isinstance(data, list):
        raise ValidationError("evidence_links must be a list", field="evidence_links")
    if len(data) > MAX_LINKS:
        raise ValidationError(f"at most {MAX_LINKS} evidence links", field="evidence_links")
    result = []
    for index, item in enumerate(data):
        prefix = f"evidence_links[{index}]"
        item = check_keys(item, prefix, LINK_KEYS)
        url = clean_text(item.get("url"), f"{prefix}.url", max_len=2_000, min_len=1)
        if not is_http_url(url):
            raise ValidationError(
                f"{prefix}.url must be an http:// or https:// address", field=f"{prefix}.url"
            )
        title = clean_text(item.get("title"), f"{prefix}.title", max_len=200, single_line=True)
        result.append({"url": url, "title": title or url})
    return result


def validate_settings(data: Any) -> dict[str, Any]:
    """Check the settings given (a partial update); see DEFAULT_SETTINGS for the keys."""
    data = check_keys(data, "settings", tuple(DEFAULT_SETTINGS))
    result: dict[str, Any] = {}
    for key, value in data.items():
        field = f"settings.{key}"
        if key == "votes_per_person":
            result[key] = check_int(value, field, low=1, high=20)
        else:
            result[key] = check_bool(value, field)
    return result


def validate_questionnaire(data: Any) -> list[str]:
    """1..10 prompts of 1..300 characters each."""
    if not isinstance(data, list) or not data:
        raise ValidationError("questionnaire must be a non-empty list of prompts",
                              field="questionnaire")  # fmt: skip
    if len(data) > MAX_PROMPTS:
        raise ValidationError(f"at most {MAX_PROMPTS} prompts", field="questionnaire")
    return [
        clean_text(p, f"questionnaire[{i}]", max_len=MAX_PROMPT, min_len=1, single_line=True)
        for i, p in enumerate(data)
    ]


def validate_schedule(data: Any) -> dict[str, Any] | None:
    """When the meeting is: ``{starts_at: ISO time, minutes: 1..1440}``; null clears it."""
    if data is None:
        return None
    data = check_keys(data, "schedule", SCHEDULE_KEYS)
    if "starts_at" not in data:
        raise ValidationError("schedule.starts_at is required", field="schedule.starts_at")
    try:
        starts_at = normalize_time(data["starts_at"])
    except ValueError as exc:
        raise ValidationError(f"schedule.starts_at: {exc}", field="schedule.starts_at") from None
    minutes = check_int(data.get("minutes", 60), "schedule.minutes", low=1,
                        high=MAX_MEETING_MINUTES)  # fmt: skip
    return {"starts_at": starts_at, "minutes": minutes}


def _person_id(value: Any, field: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_PERSON_ID or not _PERSON_ID.match(value):
        raise ValidationError(f"{field} must be a person id (pe_...)", field=field)
    return value


def validate_attendees(data: Any) -> list[str]:
    """The people (ids of the team's directory) invited to the meeting; duplicates drop."""
    if not isinstance(data, list):
        raise ValidationError("attendees must be a list of person ids", field="attendees")
    if len(data) > MAX_ATTENDEES:
        raise ValidationError(f"at most {MAX_ATTENDEES} attendees", field="attendees")
    ids = [_person_id(item, f"attendees[{i}]") for i, item in enumerate(data)]
    return list(dict.fromkeys(ids))


def validate_recap_recipients(data: Any) -> list[dict[str, str]]:
    """Who gets only the recap: ``{person_id}`` of the directory, or ``{email, name}`` of
    someone outside it. The same person or address twice is kept once."""
    field = "recap_recipients"
    if not isinstance(data, list):
        raise ValidationError(f"{field} must be a list", field=field)
    if len(data) > MAX_RECAP_RECIPIENTS:
        raise ValidationError(f"at most {MAX_RECAP_RECIPIENTS} recap recipients", field=field)
    result: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        prefix = f"{field}[{index}]"
        if isinstance(item, dict) and "person_id" in item:
            item = check_keys(item, prefix, ("person_id",))
            entry = {"person_id": _person_id(item["person_id"], f"{prefix}.person_id")}
            key = entry["person_id"]
        else:
            item = check_keys(item, prefix, ("email", "name"))
            email = clean_text(item.get("email"), f"{prefix}.email", max_len=MAX_EMAIL,
                               min_len=1, single_line=True)  # fmt: skip
            if not _EMAIL.match(email):
                raise ValidationError(f"{prefix}.email does not look like an email address",
                                      field=f"{prefix}.email")  # fmt: skip
            name = clean_text(item.get("name"), f"{prefix}.name", max_len=MAX_TITLE,
                              single_line=True)  # fmt: skip
            entry = {"email": email, "name": name}
            key = email.casefold()
        if key not in seen:
            seen.add(key)
            result.append(entry)
    return result


def next_status(current: str, target: str) -> str:
    """Check a status change and return the new status; Conflict if it is not allowed."""
    for value, field in ((current, "current"), (target, "status")):
        if value not in STATUSES:
            raise ValidationError(
                f"unknown status {value!r}; expected one of: {', '.join(STATUSES)}", field=field
            )
    if current == "closed":
        raise Conflict("this review is closed; its status is final", error="review-closed")
    if target == current:
        raise Conflict(f"the review is already {target}", error="same-status")
    if target not in TRANSITIONS[current]:
        allowed = " or ".join(TRANSITIONS[current])
        raise Conflict(
            f"a {current} review cannot become {target}; it can become {allowed}",
            error="bad-transition",
        )
    return target


def is_read_only(review: Mapping[str, Any]) -> bool:
    """Closed reviews are frozen: no doc or field may change."""
    return review.get("status") == "closed"
