"""Markdown and HTML renderings of a recap built by `recap.build_recap`.

Markdown escapes the characters that could turn user text into links, HTML, emphasis or
table breaks, escapes what would open a block (a heading, list, quote) at the start of a
text, and folds newlines in one-line fields so nobody's text can add a heading.
HTML passes every user string through `html.escape`; only http(s) links become hrefs.
Both read the recap through `docdata`, so a frozen recap of any shape still renders.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import docdata as dd
from .recap_shape import CARRIED_STATUS_LABELS, OPTIONAL_SECTIONS, SCOPE_LABELS, SECTIONS, Doc
from .texts import ACTION_KIND_LABELS, MARKER_LABELS, STATUS_LABELS
from .values import is_http_url

# Inline markup (links, images, HTML, code, emphasis, tables, entities) anywhere in a text.
_MD_SPECIAL = re.compile(r"([\\`<>\[\]|*_~&])")
# What opens a block at the start of a line: heading, list, quote, thematic break, setext.
_MD_BLOCK_CHAR = re.compile(r"^([#+\-=])")
_MD_LIST_NUMBER = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_NONE = "None recorded."


def _t(value: Any) -> str:
    return dd.text(value)


def _rows(recap: Doc, key: str) -> list[dict[str, Any]]:
    """The records of a list section (anything that is not a record is left out)."""
    found = (dd.record(v) for v in dd.items(recap.get(key)))
    return [r for r in found if r is not None]


def shown_sections(recap: Doc) -> list[tuple[str, str]]:
    """The fixed sections in order, with each optional one that holds something placed
    before the section it goes with."""
    shown = []
    for key, heading in SECTIONS:
        shown += [(k, h) for k, h, before in OPTIONAL_SECTIONS if before == key and _rows(recap, k)]
        shown.append((key, heading))
    return shown


def carried_fields(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of an action walked in the open-actions phase."""
    now, then = _t(row.get("status")), _t(row.get("status_carried"))
    status = CARRIED_STATUS_LABELS.get(now, now) or "not known"
    if then and then != now:
        status += f" (was {CARRIED_STATUS_LABELS.get(then, then).lower()})"
    return [
        ("Owner", _t(row.get("owner")) or "not set"),
        ("Due", _t(row.get("due")) or "not set"),
        ("From", _t(row.get("from_review")) or "an earlier review"),
        ("Status at close", status),
    ]


def header_line(recap: Doc) -> str:
    """'Status: Closed · Version 2 · sha256 … · finalized …' or 'Status: Live · Version: Draft'."""
    raw = _t(recap.get("status"))
    status = STATUS_LABELS.get(raw, raw)
    version = dd.record(recap.get("version"))
    if not version:
        return f"Status: {status} · Version: Draft"
    return (
        f"Status: {status} · Version {_t(version.get('number'))} · "
        f"sha256 {_t(version.get('hash'))} · finalized {_t(version.get('finalized_at'))}"
    )


def votes_text(votes: Any) -> str:
    """'3 votes', '1 vote', or 'votes hidden' while counts are not shown."""
    if votes is None:
        return "votes hidden"
    votes = dd.count(votes)
    return f"{votes} vote" + ("" if votes == 1 else "s")


def window_text(scope: Mapping[str, Any]) -> str:
    """The time window on one line; '' when neither end is set."""
    start, end = _t(scope.get("window_start")), _t(scope.get("window_end"))
    if not start and not end:
        return ""
    return f"{start or '…'} to {end or '…'}"


def action_fields(action: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs shown after an action's text; empty values read 'not set'."""
    kind = _t(action.get("kind"))
    return [
        ("Owner", _t(action.get("owner")) or "not set"),
        ("Due", _t(action.get("due")) or "not set"),
        ("Verified by", _t(action.get("verify")) or "not set"),
        ("Kind", ACTION_KIND_LABELS.get(kind, kind) or "not set"),
    ]


def event_meta(event: Mapping[str, Any]) -> str:
    """'chat; First signal, Handoff' for a timeline event."""
    found = dd.texts(event.get("markers"), unique=True)
    markers = ", ".join(MARKER_LABELS.get(m, m) for m in found)
    return "; ".join(x for x in (_t(event.get("source")), markers) if x)


def _scope_rows(recap: Doc) -> list[tuple[str, str]]:
    scope = dd.record(recap.get("scope")) or {}
    values = {
        "event": _t(scope.get("event")),
        "question": _t(scope.get("question")),
        "window": window_text(scope),
        "expected_output": _t(scope.get("expected_output")),
    }
    return [(SCOPE_LABELS[k], v) for k, v in values.items() if v]


# ---------------------------------------------------------------- Markdown


def md(text: Any) -> str:
    """One-line Markdown-safe text: newlines folded, inline markup escaped, and nothing
    at its start can open a heading, list or quote (it may follow '- ' or '### ')."""
    folded = _MD_SPECIAL.sub(r"\\\1", " ".join(_t(text).split()))
    return _MD_LIST_NUMBER.sub(r"\1\\\2", _MD_BLOCK_CHAR.sub(r"\\\1", folded))


def _md_block(text: str) -> str:
    """Multi-line text (the scribe's notes): its lines kept, each escaped like `md`, so
    no raw HTML, link, heading or fence can change the section structure."""
    return "\n".join(md(line) for line in text.splitlines())


def render_markdown(recap: Doc) -> str:
    """See `recap.to_markdown`."""
    out = [f"# {md(recap.get('title')) or 'Untitled review'}", "", md(header_line(recap))]
    out.append(f"Sign-offs: {dd.count(recap.get('signoffs'))}")
    for key, heading in shown_sections(recap):
        out += ["", f"## {heading}", ""]
        body = _MD_SECTIONS[key](recap)
        out += body if body else [_NONE]
    return "\n".join(out) + "\n"


def _md_scope(recap: Doc) -> list[str]:
    lines = [f"- **{label}:** {md(value)}" for label, value in _scope_rows(recap)]
    for link in _rows(recap, "evidence_links"):
        url = _t(link.get("url"))
        lines.append(f"- Evidence: {_md_link(_t(link.get('title')) or url, url)}")
    return lines


def _md_link(label: str, url: str) -> str:
    """Only http(s) links become links; anything else (javascript:, data:) is text."""
    if is_http_url(url):
        return f"[{md(label)}](<{url.replace('>', '%3E').replace('<', '%3C')}>)"
    return md(label)


def _md_metrics(recap: Doc) -> list[str]:
    metrics = _rows(recap, "baseline_metrics")
    if not metrics:
        return []
    lines = ["| Metric | Planned | Actual | Unit |", "| --- | --- | --- | --- |"]
    for m in metrics:
        cells = [m.get(k) for k in ("name", "planned", "actual", "unit")]
        lines.append("| " + " | ".join(md(c) for c in cells) + " |")
    return lines


def _md_timeline(recap: Doc) -> list[str]:
    lines = []
    for e in _rows(recap, "timeline"):
        line = f"- {md(e.get('time'))} · {md(e.get('text'))} ({md(event_meta(e))})"
        if _t(e.get("link")):
            line += " " + _md_link("evidence", _t(e.get("link")))
        lines.append(line)
    return lines


def _md_items(items: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for item in items:
        lines.append(f"- {md(item.get('title'))} ({votes_text(item.get('votes'))})")
        lines += [f"  - {md(n)}" for n in dd.texts(item.get("notes"))]
    return lines


def _md_answers(questions: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for question in questions:
        lines.append(f"- {md(question.get('question'))}")
        lines += [f"  - {md(a)}" for a in dd.texts(question.get("answers"))]
    return lines


def _md_factors(recap: Doc) -> list[str]:
    lines: list[str] = []
    for group in _rows(recap, "contributing_factors"):
        if lines:
            lines.append("")
        lines += [f"### {md(group.get('label'))}", "", *_md_items(_rows(group, "themes"))]
    return lines


def _md_actions(recap: Doc) -> list[str]:
    lines = []
    for number, action in enumerate(_rows(recap, "actions"), start=1):
        fields = "; ".join(f"{label}: {md(value)}" for label, value in action_fields(action))
        lines.append(f"{number}. {md(action.get('what') or 'not set')} ({fields})")
    if _t(recap.get("close_reason")):
        lines += ["", f"> Closed while some actions still had lint problems. "
                      f"Reason given: {md(recap.get('close_reason'))}"]  # fmt: skip
    return lines


def _md_carried(recap: Doc) -> list[str]:
    lines = []
    for number, row in enumerate(_rows(recap, "carried_actions"), start=1):
        fields = "; ".join(f"{label}: {md(value)}" for label, value in carried_fields(row))
        lines.append(f"{number}. {md(row.get('what') or 'not set')} ({fields})")
        if _t(row.get("note")):
            lines.append(f"   - What was said: {md(row.get('note'))}")
    return lines


_MD_SECTIONS: dict[str, Callable[[Doc], list[str]]] = {
    "carried_actions": _md_carried,
    "scope": _md_scope,
    "baseline_metrics": _md_metrics,
    "timeline": _md_timeline,
    "contributing_factors": _md_factors,
    "worked_well": lambda r: _md_items(_rows(r, "worked_well")),
    "questionnaire": lambda r: _md_answers(_rows(r, "questionnaire")),
    "actions": _md_actions,
    "follow_ups": lambda r: [f"- {md(f)}" for f in dd.texts(r.get("follow_ups"))],
    "parked_topics": lambda r: [f"- {md(p)}" for p in dd.texts(r.get("parked_topics"))],
    "scribe_text": lambda r: (
        [_md_block(_t(r.get("scribe_text")))] if _t(r.get("scribe_text")) else []
    ),
}

# ---------------------------------------------------------------- HTML

_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d1d1f;
max-width:46rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;border-bottom:1px solid #ccc;
padding-bottom:.2rem;margin-top:1.8rem}h3{font-size:1rem}
.meta{color:#555;font-size:.9rem}.none{color:#777;font-style:italic}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.3rem .5rem;
text-align:left}blockquote{border-left:3px solid #c90;margin:1rem 0;padding:.2rem .8rem}
.scribe{white-space:pre-wrap}a{color:#0645ad}
@media print{body{margin:0;max-width:none;font-size:11pt}a{color:inherit}
h2{break-after:avoid}li,tr{break-inside:avoid}}
"""


def esc(text: Any) -> str:
    """Escape any value for HTML text or attribute context."""
    return html.escape(text if isinstance(text, str) else _t(text), quote=True)


def _a(label: str, url: str) -> str:
    return f'<a href="{esc(url)}">{esc(label)}</a>' if is_http_url(url) else esc(label)


def render_html(recap: Doc) -> str:
    """See `recap.to_html`."""
    title = esc(_t(recap.get("title")) or "Untitled review")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{_CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<p class="meta">{esc(header_line(recap))}<br>'
        f"Sign-offs: {dd.count(recap.get('signoffs'))}</p>",
    ]
    for key, heading in shown_sections(recap):
        body = _HTML_SECTIONS[key](recap)
        parts.append(f'<section id="{key}"><h2>{esc(heading)}</h2>')
        parts.append(body or f'<p class="none">{_NONE}</p>')
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _ul(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>" if items else ""


def _html_scope(recap: Doc) -> str:
    rows = [f"<strong>{esc(label)}:</strong> {esc(v)}" for label, v in _scope_rows(recap)]
    rows += [
        "Evidence: " + _a(_t(link.get("title")) or _t(link.get("url")), _t(link.get("url")))
        for link in _rows(recap, "evidence_links")
    ]
    return _ul(rows)


def _html_metrics(recap: Doc) -> str:
    metrics = _rows(recap, "baseline_metrics")
    if not metrics:
        return ""
    head = "<tr><th>Metric</th><th>Planned</th><th>Actual</th><th>Unit</th></tr>"
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(m.get(k))}</td>" for k in ("name", "planned", "actual", "unit"))
        + "</tr>"
        for m in metrics
    )  # fmt: skip
    return f"<table>{head}{rows}</table>"


def _html_timeline(recap: Doc) -> str:
    return _ul([
        f"<time>{esc(e.get('time'))}</time> · {esc(e.get('text'))} "
        f'<span class="meta">({esc(event_meta(e))})</span>'
        + (" " + _a("evidence", _t(e.get("link"))) if _t(e.get("link")) else "")
        for e in _rows(recap, "timeline")
    ])  # fmt: skip


def _html_items(items: Sequence[Mapping[str, Any]]) -> str:
    return _ul([
        f"{esc(i.get('title'))} <span class=\"meta\">({esc(votes_text(i.get('votes')))})</span>"
        + _ul([esc(n) for n in dd.texts(i.get("notes"))])
        for i in items
    ])  # fmt: skip


def _html_factors(recap: Doc) -> str:
    return "".join(
        f"<h3>{esc(g.get('label'))}</h3>{_html_items(_rows(g, 'themes'))}"
        for g in _rows(recap, "contributing_factors")
    )


def _html_actions(recap: Doc) -> str:
    items = [
        f"<strong>{esc(_t(a.get('what')) or 'not set')}</strong><br>"
        + " · ".join(f"{esc(label)}: {esc(value)}" for label, value in action_fields(a))
        for a in _rows(recap, "actions")
    ]
    out = "<ol>" + "".join(f"<li>{i}</li>" for i in items) + "</ol>" if items else ""
    if _t(recap.get("close_reason")):
        out += ("<blockquote>Closed while some actions still had lint problems. Reason given: "
                f"{esc(recap.get('close_reason'))}</blockquote>")  # fmt: skip
    return out


def _html_carried(recap: Doc) -> str:
    items = [
        f"<strong>{esc(_t(row.get('what')) or 'not set')}</strong><br>"
        + " · ".join(f"{esc(label)}: {esc(value)}" for label, value in carried_fields(row))
        + (f"<br>What was said: {esc(row.get('note'))}" if _t(row.get("note")) else "")
        for row in _rows(recap, "carried_actions")
    ]
    return "<ol>" + "".join(f"<li>{i}</li>" for i in items) + "</ol>" if items else ""


_HTML_SECTIONS: dict[str, Callable[[Doc], str]] = {
    "carried_actions": _html_carried,
    "scope": _html_scope,
    "baseline_metrics": _html_metrics,
    "timeline": _html_timeline,
    "contributing_factors": _html_factors,
    "worked_well": lambda r: _html_items(_rows(r, "worked_well")),
    "questionnaire": lambda r: _ul(
        [
            esc(q.get("question")) + _ul([esc(a) for a in dd.texts(q.get("answers"))])
            for q in _rows(r, "questionnaire")
        ]
    ),
    "actions": _html_actions,
    "follow_ups": lambda r: _ul([esc(f) for f in dd.texts(r.get("follow_ups"))]),
    "parked_topics": lambda r: _ul([esc(p) for p in dd.texts(r.get("parked_topics"))]),
    "scribe_text": lambda r: (
        f'<div class="scribe">{esc(r.get("scribe_text"))}</div>' if _t(r.get("scribe_text")) else ""
    ),
}
