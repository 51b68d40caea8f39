"""Markdown and HTML renderings of a recap built by `recap.build_recap`.

Markdown escapes the characters that could turn user text into links, HTML or table
breaks, and folds newlines in one-line fields so nobody's text can add a heading.
HTML passes every user string through `html.escape`; only http(s) links become hrefs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .recap import SCOPE_LABELS, SECTIONS, Doc
from .texts import ACTION_KIND_LABELS, MARKER_LABELS, STATUS_LABELS
from .values import is_http_url

_MD_SPECIAL = re.compile(r"([\\`<>\[\]|])")
_NONE = "None recorded."


def header_line(recap: Doc) -> str:
    """'Status: Closed · Version 2 · sha256 … · finalized …' or 'Status: Live · Version: Draft'."""
    status = STATUS_LABELS.get(recap.get("status", ""), str(recap.get("status", "")))
    version = recap.get("version")
    if not version:
        return f"Status: {status} · Version: Draft"
    return (
        f"Status: {status} · Version {version.get('number')} · "
        f"sha256 {version.get('hash')} · finalized {version.get('finalized_at')}"
    )


def votes_text(votes: Any) -> str:
    """'3 votes', '1 vote', or 'votes hidden' while counts are not shown."""
    if votes is None:
        return "votes hidden"
    return f"{votes} vote" + ("" if votes == 1 else "s")


def window_text(scope: Mapping[str, str]) -> str:
    """The time window on one line; '' when neither end is set."""
    start, end = scope.get("window_start", ""), scope.get("window_end", "")
    if not start and not end:
        return ""
    return f"{start or '…'} to {end or '…'}"


def action_fields(action: Mapping[str, str]) -> list[tuple[str, str]]:
    """(label, value) pairs shown after an action's text; empty values read 'not set'."""
    kind = action.get("kind", "")
    return [
        ("Owner", action.get("owner") or "not set"),
        ("Due", action.get("due") or "not set"),
        ("Verified by", action.get("verify") or "not set"),
        ("Kind", ACTION_KIND_LABELS.get(kind, kind) or "not set"),
    ]


def event_meta(event: Mapping[str, Any]) -> str:
    """'chat; First signal, Handoff' for a timeline event."""
    markers = ", ".join(MARKER_LABELS.get(m, m) for m in event.get("markers", []))
    return "; ".join(x for x in (event.get("source", ""), markers) if x)


def _scope_rows(recap: Doc) -> list[tuple[str, str]]:
    scope = recap.get("scope", {})
    values = {
        "event": scope.get("event", ""),
        "question": scope.get("question", ""),
        "window": window_text(scope),
        "expected_output": scope.get("expected_output", ""),
    }
    return [(SCOPE_LABELS[k], v) for k, v in values.items() if v]


# ---------------------------------------------------------------- Markdown


def md(text: Any) -> str:
    """One-line Markdown-safe text: newlines folded, link/HTML/table characters escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_block(text: str) -> str:
    """Multi-line text (the scribe's notes): kept as written, but no raw HTML and no
    heading can start a line, so the section structure stays fixed."""
    lines = []
    for line in text.splitlines():
        line = line.replace("<", "\\<").replace(">", "\\>") if "<" in line else line
        lines.append("\\" + line if line.lstrip().startswith("#") else line)
    return "\n".join(lines)


def render_markdown(recap: Doc) -> str:
    """See `recap.to_markdown`."""
    out = [f"# {md(recap.get('title') or 'Untitled review')}", "", header_line(recap)]
    out.append(f"Sign-offs: {recap.get('signoffs', 0)}")
    for key, heading in SECTIONS:
        out += ["", f"## {heading}", ""]
        body = _MD_SECTIONS[key](recap)
        out += body if body else [_NONE]
    return "\n".join(out) + "\n"


def _md_scope(recap: Doc) -> list[str]:
    lines = [f"- **{label}:** {md(value)}" for label, value in _scope_rows(recap)]
    for link in recap.get("evidence_links", []):
        lines.append(f"- Evidence: {_md_link(link.get('title') or link['url'], link['url'])}")
    return lines


def _md_link(label: str, url: str) -> str:
    if is_http_url(url):
        return f"[{md(label)}](<{url.replace('>', '%3E').replace('<', '%3C')}>)"
    return md(label)


def _md_metrics(recap: Doc) -> list[str]:
    metrics = recap.get("baseline_metrics", [])
    if not metrics:
        return []
    lines = ["| Metric | Planned | Actual | Unit |", "| --- | --- | --- | --- |"]
    for m in metrics:
        cells = [m.get(k) for k in ("name", "planned", "actual", "unit")]
        lines.append("| " + " | ".join(md("" if c is None else c) for c in cells) + " |")
    return lines


def _md_timeline(recap: Doc) -> list[str]:
    lines = []
    for e in recap.get("timeline", []):
        line = f"- {e['time']} · {md(e['text'])} ({md(event_meta(e))})"
        if e.get("link"):
            line += " " + _md_link("evidence", e["link"])
        lines.append(line)
    return lines


def _md_items(items: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for item in items:
        lines.append(f"- {md(item['title'])} ({votes_text(item.get('votes'))})")
        lines += [f"  - {md(n)}" for n in item.get("notes", [])]
    return lines


def _md_factors(recap: Doc) -> list[str]:
    lines: list[str] = []
    for group in recap.get("contributing_factors", []):
        if lines:
            lines.append("")
        lines += [f"### {md(group['label'])}", "", *_md_items(group["themes"])]
    return lines


def _md_actions(recap: Doc) -> list[str]:
    lines = []
    for number, action in enumerate(recap.get("actions", []), start=1):
        fields = "; ".join(f"{label}: {md(value)}" for label, value in action_fields(action))
        lines.append(f"{number}. {md(action.get('what') or 'not set')} ({fields})")
    if recap.get("close_reason"):
        lines += ["", f"> Closed while some actions still had lint problems. "
                      f"Reason given: {md(recap['close_reason'])}"]  # fmt: skip
    return lines


_MD_SECTIONS: dict[str, Callable[[Doc], list[str]]] = {
    "scope": _md_scope,
    "baseline_metrics": _md_metrics,
    "timeline": _md_timeline,
    "contributing_factors": _md_factors,
    "worked_well": lambda r: _md_items(r.get("worked_well", [])),
    "actions": _md_actions,
    "follow_ups": lambda r: [f"- {md(f)}" for f in r.get("follow_ups", [])],
    "scribe_text": lambda r: [_md_block(r["scribe_text"])] if r.get("scribe_text") else [],
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
    return html.escape("" if text is None else str(text), quote=True)


def _a(label: str, url: str) -> str:
    return f'<a href="{esc(url)}">{esc(label)}</a>' if is_http_url(url) else esc(label)


def render_html(recap: Doc) -> str:
    """See `recap.to_html`."""
    title = esc(recap.get("title") or "Untitled review")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{_CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<p class="meta">{esc(header_line(recap))}<br>'
        f"Sign-offs: {esc(recap.get('signoffs', 0))}</p>",
    ]
    for key, heading in SECTIONS:
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
        "Evidence: " + _a(link.get("title") or link["url"], link["url"])
        for link in recap.get("evidence_links", [])
    ]
    return _ul(rows)


def _html_metrics(recap: Doc) -> str:
    metrics = recap.get("baseline_metrics", [])
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
        f"<time>{esc(e['time'])}</time> · {esc(e['text'])} "
        f'<span class="meta">({esc(event_meta(e))})</span>'
        + (" " + _a("evidence", e["link"]) if e.get("link") else "")
        for e in recap.get("timeline", [])
    ])  # fmt: skip


def _html_items(items: Sequence[Mapping[str, Any]]) -> str:
    return _ul([
        f"{esc(i['title'])} <span class=\"meta\">({esc(votes_text(i.get('votes')))})</span>"
        + _ul([esc(n) for n in i.get("notes", [])])
        for i in items
    ])  # fmt: skip


def _html_factors(recap: Doc) -> str:
    return "".join(
        f"<h3>{esc(g['label'])}</h3>{_html_items(g['themes'])}"
        for g in recap.get("contributing_factors", [])
    )


def _html_actions(recap: Doc) -> str:
    items = [
        f"<strong>{esc(a.get('what') or 'not set')}</strong><br>"
        + " · ".join(f"{esc(label)}: {esc(value)}" for label, value in action_fields(a))
        for a in recap.get("actions", [])
    ]
    out = "<ol>" + "".join(f"<li>{i}</li>" for i in items) + "</ol>" if items else ""
    if recap.get("close_reason"):
        out += ("<blockquote>Closed while some actions still had lint problems. Reason given: "
                f"{esc(recap['close_reason'])}</blockquote>")  # fmt: skip
    return out


_HTML_SECTIONS: dict[str, Callable[[Doc], str]] = {
    "scope": _html_scope,
    "baseline_metrics": _html_metrics,
    "timeline": _html_timeline,
    "contributing_factors": _html_factors,
    "worked_well": lambda r: _html_items(r.get("worked_well", [])),
    "actions": _html_actions,
    "follow_ups": lambda r: _ul([esc(f) for f in r.get("follow_ups", [])]),
    "scribe_text": lambda r: (
        f'<div class="scribe">{esc(r["scribe_text"])}</div>' if r.get("scribe_text") else ""
    ),
}
