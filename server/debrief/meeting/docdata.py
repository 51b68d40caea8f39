"""Well-typed plain data out of whatever a shared doc holds.

Clients write `timeline` and `recap` directly, and stored docs may come from older
versions, so a field may hold anything: a number where text belongs, a list, a map,
a nested Yjs type, NaN. These readers are total: they never raise, keep what has the
documented shape (docs/shared-docs.md), coerce plain scalars to text and drop the rest.
They read one level at a time and never recurse without a bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from pycrdt import Array, Map, Text

# How deep `plain` copies nested values (a JSON export needs no more than this).
PLAIN_DEPTH = 4
MAX_MARKERS = 20
MAX_LIST = 1_000


def text(value: Any) -> str:
    """Text as written (stripped); numbers as their digits; anything else ''."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, Text):
        return str(value).strip()
    found = number(value)
    if found is None:
        return ""
    return str(int(found)) if float(found).is_integer() and abs(found) < 1e15 else str(found)


def number(value: Any) -> int | float | None:
    """A finite number (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int) and abs(value) > 2**63:
        return None  # beyond what Yjs or JSON readers keep exactly
    return value


def count(value: Any) -> int:
    """A non-negative whole count; anything else 0."""
    found = number(value)
    return max(0, int(found)) if found is not None else 0


def items(value: Any) -> list[Any]:
    """The elements of a list or a Yjs array (bounded); anything else is no elements."""
    if isinstance(value, list | tuple):
        return list(value[:MAX_LIST])
    if isinstance(value, Array):
        return [value[i] for i in range(min(len(value), MAX_LIST))]
    return []


def texts(value: Any, limit: int = MAX_LIST, *, unique: bool = False) -> list[str]:
    """The non-empty text elements of a list (markers, notes); others dropped."""
    found = [t for t in (text(v) for v in items(value) if isinstance(v, str | Text)) if t]
    return (list(dict.fromkeys(found)) if unique else found)[:limit]


def record(value: Any) -> dict[str, Any] | None:
    """A map's entries one level deep (a Yjs map or a plain object), else None."""
    if isinstance(value, Map):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    return None


def entries(root: Map) -> Iterable[tuple[str, dict[str, Any]]]:
    """(key, record) for each entry of a root map whose value is a map; others skipped."""
    for key, value in root.items():
        found = record(value)
        if found is not None:
            yield str(key), found


def plain(value: Any, depth: int = PLAIN_DEPTH) -> Any:
    """A JSON-safe copy: Yjs types converted, non-finite numbers and bytes dropped,
    nesting cut at `depth` (deeper containers become empty)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, Text):
        return str(value)
    found = record(value)
    if found is not None:
        return {k: plain(v, depth - 1) for k, v in found.items()} if depth > 0 else {}
    if isinstance(value, list | tuple | Array):
        return [plain(v, depth - 1) for v in items(value)] if depth > 0 else []
    return None


def action(key: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """One action item of the `recap` doc in its documented shape."""
    return {
        "id": key,
        "what": text(raw.get("what")),
        "owner": text(raw.get("owner")),
        "owner_id": text(raw.get("owner_id")),  # a person of the team's directory, or ""
        "due": text(raw.get("due")),
        "verify": text(raw.get("verify")),
        "kind": text(raw.get("kind")),
        "created_ms": number(raw.get("created_ms")) or 0,
    }


def event(key: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """One timeline event in its documented shape."""
    return {
        "id": key,
        "time": text(raw.get("time")),
        "text": text(raw.get("text")),
        "source": text(raw.get("source")),
        "link": text(raw.get("link")),
        "markers": texts(raw.get("markers"), MAX_MARKERS, unique=True),
        "created_ms": number(raw.get("created_ms")) or 0,
        "recap": text(raw.get("recap")),
    }


def note(key: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A revealed note of the `room` doc (server-written, but maybe from an older version)."""
    found = {
        "id": key,
        "text": text(raw.get("text")),
        "kind": text(raw.get("kind")),
        "theme_id": text(raw.get("theme_id")) or None,
        "prompt": number(raw.get("prompt")),
    }
    if "question" in raw:  # questionnaire answers: the question, as asked when revealed
        found["question"] = text(raw.get("question"))
    if "author" in raw:
        found["author"] = text(raw.get("author"))
    return found


def theme(key: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A theme of the `room` doc in its documented shape."""
    return {
        "id": key,
        "title": text(raw.get("title")),
        "category": text(raw.get("category")),
        "section": text(raw.get("section")),
        "absorbed": texts(raw.get("absorbed")),
    }
