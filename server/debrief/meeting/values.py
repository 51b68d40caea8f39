"""Small validators for plain values shared by several meeting modules.

Kept in one place so that "a time", "a URL" and "a piece of text" mean the same thing
in the review fields, the timeline importers and the recap.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from .errors import ValidationError

# Epoch values above this are taken as milliseconds: 1e11 seconds is the year 5138,
# while 1e11 milliseconds is 1973, so no real timestamp is ambiguous.
_EPOCH_MS_THRESHOLD = 100_000_000_000
_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def format_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a 'Z'; milliseconds only when they are not zero."""
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond // 1000 else "seconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_time(value: Any) -> datetime:
    """Parse ISO 8601 with 'Z' or an offset, or epoch seconds/ms (number or string).

    A time without a zone is refused: guessing the zone would silently shift events.
    Raises ValueError with a human message (callers add the line or field).
    """
    if isinstance(value, bool):
        raise ValueError("a time cannot be true/false")
    if isinstance(value, int | float):
        return _from_epoch(float(value))
    if not isinstance(value, str) or not value.strip():
        raise ValueError("the time is missing")
    text = value.strip()
    if _NUMBER_RE.match(text):
        return _from_epoch(float(text))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time or epoch seconds/ms") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone; add 'Z' or an offset such as '+02:00'")
    return moment.astimezone(UTC)


def normalize_time(value: Any) -> str:
    """`parse_time` then `format_utc`: the one string form stored everywhere."""
    return format_utc(parse_time(value))


def _from_epoch(number: float) -> datetime:
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{number!r} is not a usable epoch time")
    seconds = number / 1000 if number >= _EPOCH_MS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"{number!r} is out of range for a time") from None


def parse_date(value: Any) -> date:
    """A calendar date 'YYYY-MM-DD' (a full ISO datetime is accepted, its date is used)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("the date is missing")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValueError(f"{text!r} is not a date like 2025-03-31") from None


def is_http_url(value: str) -> bool:
    """True for absolute http(s) URLs with a host; anything else (javascript:, data:) is not."""
    if not isinstance(value, str) or any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def clean_text(
    value: Any,
    field: str,
    *,
    max_len: int,
    min_len: int = 0,
    single_line: bool = False,
) -> str:
    """Check a text field: a string, stripped, within length, no control characters.

    `single_line` folds newlines into spaces (titles, names) instead of refusing them.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be text", field=field)
    text = value.strip()
    if single_line:
        text = " ".join(text.split())
    if _CONTROL_RE.search(text):
        raise ValidationError(f"{field} contains control characters", field=field)
    if len(text) < min_len:
        what = "is required" if min_len == 1 else f"needs at least {min_len} characters"
        raise ValidationError(f"{field} {what}", field=field)
    if len(text) > max_len:
        raise ValidationError(
            f"{field} is {len(text)} characters long; the limit is {max_len}", field=field
        )
    return text


def check_int(value: Any, field: str, *, low: int, high: int) -> int:
    """An integer (not a bool, not a float with a fraction) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"{field} must be a whole number", field=field)
    if isinstance(value, float) and not value.is_integer():
        raise ValidationError(f"{field} must be a whole number", field=field)
    number = int(value)
    if not low <= number <= high:
        raise ValidationError(f"{field} must be between {low} and {high}", field=field)
    return number


def check_bool(value: Any, field: str) -> bool:
    """Exactly true or false; 'yes', 1 and friends are refused to avoid surprises."""
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be true or false", field=field)
    return value


def check_keys(data: Any, field: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """A dict whose keys are all in `allowed`; names the first unknown key."""
    if not isinstance(data, dict):
        raise ValidationError(f"{field} must be an object", field=field)
    for key in data:
        if key not in allowed:
            path = f"{field}.{key}" if field else str(key)
            raise ValidationError(
                f"unknown field {path!r}; expected one of: {', '.join(allowed)}", field=path
            )
    return data
