"""The recap: built from plain doc data, rendered to Markdown, HTML and JSON.

`build_recap` only arranges what the docs already hold; it never invents content. The
caller passes only what may be shown (revealed notes; vote counts as None while they
are hidden). `finalize` freezes a recap with a content hash that anyone can re-check.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from . import docdata as dd
from .recap_render import render_html, render_markdown
from .recap_shape import FORMAT, SCOPE_LABELS, SECTIONS, Doc
from .texts import THEME_CATEGORY_LABELS

__all__ = ["FORMAT", "SCOPE_LABELS", "SECTIONS", "Doc", "build_recap", "finalize"]
UNGROUPED = "ungrouped"
_UNGROUPED_LABEL = "Not yet grouped into a theme"
# Metadata about finalisation is not part of the content the hash vouches for.
_UNHASHED = ("version", "status")


def build_recap(
    review: Doc,
    timeline_events: Sequence[Doc],
    themes: Sequence[Doc],
    notes: Sequence[Doc],
    actions: Sequence[Doc],
    scribe_text: str,
    signoffs: int,
    version: Doc | None = None,
    *,
    follow_ups: Sequence[str] = (),
    parked: Sequence[str] = (),
    carried: Sequence[Doc] = (),
) -> dict[str, Any]:
    """Arrange the review's docs into recap sections (JSON-ready dict).

    themes: {id, title, category, votes (int or None when hidden), section
    ("contributing-factors" default, or "worked-well")}; notes: revealed notes
    {text, kind, theme_id, votes}; the review may carry a `close_reason`. carried: the
    earlier actions walked in this meeting (meeting/carried.py `for_recap`); the section
    is there only when there are some.
    """
    scope = dd.record(review.get("scope")) or {}
    recap: dict[str, Any] = {
        "format": FORMAT,
        "title": _s(review.get("title")),
        "status": _s(review.get("status")) or "draft",
        "version": _version(version),
        "signoffs": dd.count(signoffs),
        "scope": {k: _s(scope.get(k)) for k in ("event", "question", "window_start",
                                                  "window_end", "expected_output")},
        "evidence_links": [{"url": _s(x.get("url")), "title": _s(x.get("title"))}
                           for x in _records(review.get("evidence_links"))],
        "baseline_metrics": [{k: _scalar(m.get(k)) for k in ("name", "planned", "actual", "unit")}
                             for m in _records(review.get("baseline_metrics"))],
        "timeline": _condensed_timeline(timeline_events),
        "contributing_factors": _factors(_themes(themes), _notes(notes)),
        "worked_well": _worked_well(_themes(themes), _notes(notes)),
        "questionnaire": _answers(_notes(notes), dd.texts(review.get("questionnaire"))),
        "actions": [{k: _s(a.get(k)) for k in ("what", "owner", "due", "verify", "kind")}
                    for a in _records(actions)],
        "follow_ups": [_s(f) for f in dd.items(follow_ups) if _s(f)],
        "parked_topics": [_s(p) for p in dd.items(parked) if _s(p)],
        "close_reason": _s(review.get("close_reason")),
        "scribe_text": _s(scribe_text),
    }  # fmt: skip
    walked = [{k: _s(c.get(k)) for k in _CARRIED_KEYS} for c in _records(carried)]
    if walked:
        recap["carried_actions"] = walked
    return recap


_CARRIED_KEYS = ("what", "owner", "due", "from_review", "status_carried", "status", "note")


# Every input may come straight from a doc a client wrote: read it through `docdata`,
# which keeps the documented shape and never raises.
_s = dd.text


def _records(value: Any) -> list[dict[str, Any]]:
    return [r for r in (dd.record(v) for v in dd.items(value)) if r is not None]


def _scalar(value: Any) -> int | float | str | None:
    """A metric cell: a number or text as given, anything else empty."""
    if isinstance(value, str):
        return value.strip()
    return dd.number(value)


def _votes(value: Any) -> int | None:
    return None if value is None else dd.count(value)


def _version(value: Any) -> dict[str, Any] | None:
    found = dd.record(value)
    return {k: dd.plain(v) for k, v in found.items()} if found else None


def _themes(themes: Any) -> list[dict[str, Any]]:
    return [
        {**dd.theme(_s(t.get("id")), t), "votes": _votes(t.get("votes")),
         "section": _s(t.get("section")) or "contributing-factors"}
        for t in _records(themes)
    ]  # fmt: skip


def _notes(notes: Any) -> list[dict[str, Any]]:
    return [{**dd.note(_s(n.get("id")), n), "votes": _votes(n.get("votes"))}
            for n in _records(notes)]  # fmt: skip


def _answers(notes: Sequence[Doc], prompts: Sequence[str]) -> list[dict[str, Any]]:
    """Revealed questionnaire answers under their questions, in the questionnaire's order.
    An answer revealed by an older version has no question of its own: the prompt of its
    number then stands in."""
    grouped: dict[str, list[str]] = {}
    for note in notes:
        if note.get("kind") != "questionnaire":
            continue
        prompt = note.get("prompt")
        known = prompts[prompt] if isinstance(prompt, int) and 0 <= prompt < len(prompts) else ""
        question = _s(note.get("question")) or known or "A question no longer in the list"
        grouped.setdefault(question, []).append(_s(note.get("text")))
    order = {q: i for i, q in enumerate(prompts)}
    return [
        {"question": q, "answers": sorted(a)}
        for q, a in sorted(grouped.items(), key=lambda qa: (order.get(qa[0], len(order)), qa[0]))
    ]


def _votes_key(item: Mapping[str, Any]) -> tuple[int, str]:
    return (-(item.get("votes") or 0), item["title"].lower())


def _condensed_timeline(events: Any) -> list[dict[str, Any]]:
    """The events the recap keeps, oldest first: those marked as a turning point unless
    the scribe left them out ("drop"), and any the scribe chose to keep."""
    shaped = [dd.event(_s(e.get("id")), e) for e in _records(events)]
    return [
        {k: e[k] for k in ("time", "text", "source", "link", "markers")}
        for e in sorted(shaped, key=lambda e: e["time"]) if in_recap(e)
    ]  # fmt: skip


def in_recap(event: Mapping[str, Any]) -> bool:
    choice = event.get("recap")
    return choice == "keep" or (bool(event.get("markers")) and choice != "drop")


def _theme_notes(theme_id: Any, notes: Sequence[Doc]) -> list[str]:
    return [_s(n.get("text")) for n in notes if theme_id and n.get("theme_id") == theme_id]


def _item(title: Any, votes: Any, notes: list[str]) -> dict[str, Any]:
    return {"title": _s(title), "votes": votes, "notes": notes}


def _loose_notes(kind: str, themes: Sequence[Doc], notes: Sequence[Doc]) -> list[dict[str, Any]]:
    """Notes of a kind that are not (yet) in any theme; they still belong in the recap."""
    theme_ids = {t.get("id") for t in themes if t.get("id")}
    return [
        _item(n.get("text"), n.get("votes"), [])
        for n in notes
        if n.get("kind") == kind and n.get("theme_id") not in theme_ids
    ]


def _group(category: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    label = _UNGROUPED_LABEL if category == UNGROUPED else THEME_CATEGORY_LABELS.get(category)
    return {
        "category": category,
        "label": label or category.replace("-", " ").capitalize(),
        "total_votes": sum(i["votes"] or 0 for i in items),
        "themes": sorted(items, key=_votes_key),
    }


def _factors(themes: Sequence[Doc], notes: Sequence[Doc]) -> list[dict[str, Any]]:
    """Contributing-factor themes grouped by category, most votes first."""
    by_category: dict[str, list[dict[str, Any]]] = {}
    for theme in themes:
        if theme.get("section", "contributing-factors") != "contributing-factors":
            continue
        category = _s(theme.get("category")) or "other"
        item = _item(theme.get("title"), theme.get("votes"), _theme_notes(theme.get("id"), notes))
        by_category.setdefault(category, []).append(item)
    order = list(THEME_CATEGORY_LABELS)

    def rank(group: dict[str, Any]) -> tuple[int, int]:
        known = group["category"] in order
        return (-group["total_votes"], order.index(group["category"]) if known else len(order))

    groups = sorted((_group(c, items) for c, items in by_category.items()), key=rank)
    loose = _loose_notes("contributing-factor", themes, notes)
    if loose:
        groups.append(_group(UNGROUPED, loose))  # always last: not yet discussed
    return groups


def _worked_well(themes: Sequence[Doc], notes: Sequence[Doc]) -> list[dict[str, Any]]:
    """Worked-well themes and loose worked-well notes, most votes first."""
    items = [
        _item(t.get("title"), t.get("votes"), _theme_notes(t.get("id"), notes))
        for t in themes
        if t.get("section") == "worked-well"
    ]
    return sorted(items + _loose_notes("worked-well", themes, notes), key=_votes_key)


def content_hash(recap: Doc) -> str:
    """sha256 (hex) of the canonical JSON of the recap, without version and status."""
    body = {k: v for k, v in recap.items() if k not in _UNHASHED}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def finalize(recap: Doc, number: int, finalized_at: str) -> dict[str, Any]:
    """A closed copy carrying its version: number, content hash and time (ISO UTC)."""
    version = {"number": number, "hash": content_hash(recap), "finalized_at": finalized_at}
    return {**recap, "status": "closed", "version": version}


def to_json(recap: Doc) -> str:
    """Pretty JSON export (UTF-8 text)."""
    return json.dumps(recap, indent=2, ensure_ascii=False) + "\n"


def to_markdown(recap: Doc) -> str:
    """Markdown export: a header, then one '## ' heading per section in SECTIONS order."""
    return render_markdown(recap)


def to_html(recap: Doc) -> str:
    """Print-friendly, self-contained HTML export; every user text is escaped."""
    return render_html(recap)
