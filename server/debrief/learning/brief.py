"""A learning brief from a group of recurring themes: Markdown to edit, HTML to share.

Pure. The brief is built only from what the reviews' frozen recaps already show (their
timelines, the revealed notes of the group's themes, their actions) plus the team's
table of recurring finding -> training response. Its sections:
- the recurring finding (how many reviews, which themes, their votes),
- the scenarios: per review, a timeline excerpt around the theme and its revealed notes,
- a better response (the team's table, defaulting to the article's),
- checklist items drawn from the actions,
- how the team will tell it worked (the actions' verification texts).

The Markdown is the editable text; names in it are replaced later by `anonymise`. User
texts are escaped so that none can open a heading or list of its own, but `_`, `.`,
`@` and `-` are left as they are: an escaped email address would hide from the
anonymiser. `to_html` renders the small Markdown subset the brief uses, escaping
everything else, so whatever the moderator types shows as text.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from debrief.meeting.texts import ACTION_KIND_LABELS, MARKER_LABELS, THEME_CATEGORY_LABELS

CATEGORIES = tuple(THEME_CATEGORY_LABELS)
MAX_EXCERPT = 6  # timeline events per scenario
MAX_NOTES = 8  # revealed notes per theme
MAX_CHECKLIST = 12
MAX_RESPONSES = 50
MAX_FINDING = 300
MAX_RESPONSE = 1_000

# The article's table "recurring finding -> better training response", as defaults a
# team may edit. The last two rows are ours: they cover the categories the article's
# four rows leave without an answer.
DEFAULT_RESPONSES: tuple[dict[str, Any], ...] = (
    {
        "id": "late-updates",
        "finding": "Updates to stakeholders come late, or differ from one time to the next",
        "response": "A short module on how often updates go out, who sends them and "
        "which signals mean it is time to escalate",
        "categories": ["information-gap"],
        "origin": "article",
    },
    {
        "id": "skipped-step",
        "finding": "A review step the procedure asks for gets skipped",
        "response": "Change the written procedure where the step gets lost, and add a "
        "short check on it to onboarding",
        "categories": ["process-gap"],
        "origin": "article",
    },
    {
        "id": "blameless-facilitation",
        "finding": "People new to leading reviews find it hard to keep them blameless",
        "response": "A facilitation guide with practice scenarios and questions to ask",
        "categories": [],
        "origin": "article",
    },
    {
        "id": "repeated-technical-errors",
        "finding": "The same technical mistake comes back, in more than one team",
        "response": "Short lessons for each role, placed at the exact step of the "
        "workflow where the mistake happens",
        "categories": ["tooling"],
        "origin": "article",
    },
    {
        "id": "unowned-handoffs",
        "finding": "Handoffs happen without anyone owning the next step",
        "response": "A one-page handoff checklist naming who owns each step, walked "
        "through with every role that hands work over",
        "categories": ["role-ambiguity"],
        "origin": "debrief",
    },
    {
        "id": "squeezed-checks",
        "finding": "Checks get squeezed or dropped when time runs short",
        "response": "An agreed minimum set of checks for rushed work, practised in a "
        "short drill so it holds under pressure",
        "categories": ["timing-pressure", "other"],
        "origin": "debrief",
    },
)

# Markdown characters that could turn text into markup (links, HTML, emphasis, tables).
_MD_SPECIAL = re.compile(r"([\\`<>\[\]|*~&])")
_MD_BLOCK_START = re.compile(r"^(\s*)([#+\-=>]|\d{1,9}[.)])")
_WORDS = re.compile(r"[^\W\d_]{4,}", re.UNICODE)
_STOP = frozenset(
    "that this with from were when what which there their they them then than have been "
    "into also only over more most much many some such just after before about again "
    "because while where would could should".split()
)


@dataclass
class Scenario:
    """One theme of the group in one closed review (from its frozen recap)."""

    review_id: str
    review_title: str
    closed_ms: int
    theme_title: str
    category: str = ""
    votes: int | None = None
    notes: list[str] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)


def recap_themes(frozen: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The themes of a frozen recap by id, numbered as learning/facts.py numbers them
    ("cf<n>" contributing factors in the recap's order, "ww<n>" worked well), each with
    its title, category, votes and revealed notes."""
    found: dict[str, dict[str, Any]] = {}
    n = 0
    for group in _records(frozen.get("contributing_factors")):
        category = str(group.get("category") or "") or "other"
        if category == "ungrouped":
            continue  # loose notes, not themes
        for item in _records(group.get("themes")):
            n += 1
            found[f"cf{n}"] = {**item, "category": category}
    for n, item in enumerate(_records(frozen.get("worked_well")), 1):
        found[f"ww{n}"] = {**item, "category": ""}
    return found


def _records(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else []
    return [dict(v) for v in items if isinstance(v, Mapping)]


def scenario(
    review: Mapping[str, Any], frozen: Mapping[str, Any], theme_id: str
) -> Scenario | None:
    """One theme of a closed review as a scenario of the brief; None for no such theme."""
    theme = recap_themes(frozen).get(theme_id)
    if theme is None:
        return None
    votes = theme.get("votes")
    return Scenario(
        review_id=str(review.get("id") or ""),
        review_title=str(review.get("title") or frozen.get("title") or "Untitled review"),
        closed_ms=int(review.get("closed_ms") or 0),
        theme_title=str(theme.get("title") or ""),
        category=str(theme.get("category") or ""),
        votes=votes if isinstance(votes, int) and not isinstance(votes, bool) else None,
        notes=[str(n) for n in theme.get("notes") or [] if isinstance(n, str)],
        timeline=_records(frozen.get("timeline")),
        actions=_records(frozen.get("actions")),
    )


def md(text: Any) -> str:
    """One line of user text, safe in Markdown: newlines folded, markup escaped, and
    nothing at its start opens a block."""
    folded = " ".join(str(text or "").split())
    escaped = _MD_SPECIAL.sub(r"\\\1", folded)
    return _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d") if ms else "undated"


def _words(text: str) -> set[str]:
    return {w for w in (x.casefold() for x in _WORDS.findall(text)) if w not in _STOP}


def excerpt(timeline: Sequence[Mapping[str, Any]], about: str) -> list[dict[str, Any]]:
    """The timeline events closest to a theme: those sharing words with its title and
    notes, then the marked turning points, at most MAX_EXCERPT, in time order."""
    wanted = _words(about)
    scored = []
    for index, event in enumerate(timeline):
        shared = len(wanted & _words(str(event.get("text", ""))))
        marked = 1 if event.get("markers") else 0
        if shared or marked:
            scored.append((-shared, -marked, index))
    picked = sorted(index for _, _, index in sorted(scored)[:MAX_EXCERPT])
    return [dict(timeline[i]) for i in picked]


def relevant_actions(actions: Sequence[Mapping[str, Any]], about: str) -> list[dict[str, Any]]:
    """The review's actions that speak of the theme; all of them when none does (a
    review's actions answer its findings, and the brief can be edited)."""
    wanted = _words(about)
    related = [dict(a) for a in actions
               if wanted & _words(f"{a.get('what', '')} {a.get('verify', '')}")]  # fmt: skip
    return related or [dict(a) for a in actions]


def check_responses(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A team's table, cleaned: ids unique, texts bounded, categories known. Raises
    ValueError naming the first problem."""
    if len(rows) > MAX_RESPONSES:
        raise ValueError(f"the table holds at most {MAX_RESPONSES} rows")
    clean: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, start=1):
        finding = " ".join(str(row.get("finding") or "").split())
        response = str(row.get("response") or "").strip()
        if not finding or not response:
            raise ValueError(f"row {number}: both the finding and the response are needed")
        if len(finding) > MAX_FINDING or len(response) > MAX_RESPONSE:
            raise ValueError(f"row {number}: the finding or the response is too long")
        categories = [str(c) for c in row.get("categories") or []]
        unknown = [c for c in categories if c not in CATEGORIES]
        if unknown:
            raise ValueError(f"row {number}: {unknown[0]!r} is not a theme category")
        rid = str(row.get("id") or "") or re.sub(r"[^a-z0-9]+", "-", finding.lower())[:40]
        rid = rid.strip("-") or f"row-{number}"
        if rid in seen:
            raise ValueError(f"row {number}: the id {rid!r} is used twice")
        seen.add(rid)
        origin = str(row.get("origin") or "team")
        clean.append({"id": rid, "finding": finding, "response": response,
                      "categories": sorted(set(categories)), "origin": origin})  # fmt: skip
    return clean


def choose_response(
    responses: Sequence[Mapping[str, Any]], scenarios: Sequence[Scenario], wanted: str = ""
) -> dict[str, Any] | None:
    """The row asked for by id, else the one for the group's most frequent category
    (ties: the table's order), else None."""
    if wanted:
        return next((dict(r) for r in responses if r.get("id") == wanted), None)
    counts = Counter(s.category or "other" for s in scenarios)
    for category, _ in sorted(
        counts.items(),
        key=lambda kv: (-kv[1], CATEGORIES.index(kv[0]) if kv[0] in CATEGORIES else 99),
    ):
        for row in responses:
            if category in (row.get("categories") or []):
                return dict(row)
    return None


def _by_review(scenarios: Sequence[Scenario]) -> list[list[Scenario]]:
    grouped: dict[str, list[Scenario]] = {}
    for scenario in sorted(scenarios, key=lambda s: (s.closed_ms, s.review_id, s.theme_title)):
        grouped.setdefault(scenario.review_id, []).append(scenario)
    return list(grouped.values())


def _event_line(event: Mapping[str, Any]) -> str:
    markers = [MARKER_LABELS.get(str(m), str(m)) for m in event.get("markers") or []]
    marked = f" ({md(', '.join(markers).lower())})" if markers else ""
    return f"- {md(_when(event.get('time')))}: {md(event.get('text'))}{marked}"


def _when(value: Any) -> str:
    """An ISO time like 2026-03-01T09:20:00Z as "2026-03-01 09:20 UTC"; others as they are."""
    text = str(value or "")
    found = re.fullmatch(r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?Z", text)
    return f"{found.group(1)} {found.group(2)} UTC" if found else (text or "undated")


def _finding(name: str, reviews: list[list[Scenario]]) -> list[str]:
    first, last = reviews[0][0].closed_ms, reviews[-1][0].closed_ms
    count = len(reviews)
    themes = [s for group in reviews for s in group]
    votes = sum(s.votes or 0 for s in themes)
    categories = Counter(s.category or "other" for s in themes)
    label = THEME_CATEGORY_LABELS.get(categories.most_common(1)[0][0], "Other")
    lines = [
        f"{md(name)} came up in {count} review{'s' if count != 1 else ''} between "
        f"{_day(first)} and {_day(last)}, with {votes} vote{'s' if votes != 1 else ''} "
        f"in all. Most often filed as: {label.lower()}.",
        "",
        "How each review put it:",
        "",
    ]
    lines += [f"- “{md(s.theme_title)}” ({md(s.review_title)})" for s in themes]
    return lines


def _scenario(number: int, group: list[Scenario]) -> list[str]:
    head = group[0]
    lines = [f"### Scenario {number}: {md(head.review_title)} ({_day(head.closed_ms)})", ""]
    about = " ".join(f"{s.theme_title} {' '.join(s.notes)}" for s in group)
    events = excerpt(head.timeline, about)
    lines += ["What happened, from the timeline:", ""]
    lines += [_event_line(e) for e in events] or ["- The timeline kept no event for this."]
    lines += [""]
    for scenario in group:
        lines += [f"What people noted under “{md(scenario.theme_title)}”:", ""]
        notes = [n for n in scenario.notes if n.strip()][:MAX_NOTES]
        lines += [f"> {md(n)}" if i == 0 else f">\n> {md(n)}" for i, n in enumerate(notes)]
        if not notes:
            lines.append("- No note was put under this theme.")
        lines.append("")
    return lines


def _checklist(reviews: list[list[Scenario]]) -> tuple[list[str], list[str]]:
    items: dict[str, str] = {}
    verifies: dict[str, str] = {}
    for group in reviews:
        about = " ".join(f"{s.theme_title} {' '.join(s.notes)}" for s in group)
        for action in relevant_actions(group[0].actions, about):
            what = " ".join(str(action.get("what") or "").split())
            if what and what.casefold() not in items:
                kind = ACTION_KIND_LABELS.get(str(action.get("kind") or ""), "")
                items[what.casefold()] = f"- [ ] {md(what)}" + (
                    f" ({kind.lower()})" if kind else ""
                )
            verify = " ".join(str(action.get("verify") or "").split())
            if verify and verify.casefold() not in verifies:
                verifies[verify.casefold()] = f"- {md(verify)}"
    return list(items.values())[:MAX_CHECKLIST], list(verifies.values())[:MAX_CHECKLIST]


def build_markdown(
    name: str, scenarios: Sequence[Scenario], response: Mapping[str, Any] | None
) -> str:
    """The brief as editable Markdown (names still in it: see `anonymise`)."""
    reviews = _by_review(scenarios)
    if not reviews:
        raise ValueError("a brief needs at least one theme of a closed review")
    lines = [f"# Learning brief: {md(name)}", "", "## The recurring finding", ""]
    lines += _finding(name, reviews)
    lines += ["", "## Scenarios", ""]
    for number, group in enumerate(reviews, start=1):
        lines += _scenario(number, group)
    lines += ["## A better response", ""]
    if response:
        lines += [f"**The finding:** {md(response.get('finding'))}", "",
                  f"**What to build:** {md(response.get('response'))}", ""]  # fmt: skip
    else:
        lines += ["Write here the training or documentation asset this finding calls for.", ""]
    checklist, verifies = _checklist(reviews)
    lines += ["## Checklist", ""]
    lines += checklist or ["- [ ] Write the steps people should follow next time."]
    lines += ["", "## How the team will tell it worked", ""]
    lines += verifies
    lines += ["- The finding does not come back in the next quarterly review.", ""]
    return "\n".join(lines)


# --- HTML -------------------------------------------------------------------------------

_CSS = (
    "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d1d1f;"
    "max-width:46rem;margin:2rem auto;padding:0 1rem}h1{font-size:1.6rem}"
    "h2{font-size:1.2rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:1.8rem}"
    "h3{font-size:1rem}blockquote{border-left:3px solid #c90;margin:1rem 0;padding:.2rem .8rem}"
    "ul.checklist{list-style:none;padding-left:1rem}.meta{color:#555;font-size:.9rem}"
    "@media print{body{margin:0;max-width:none;font-size:11pt}h2{break-after:avoid}}"
)
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~&=])")
_CHECK = re.compile(r"^[-*+]\s+\[( |x|X)\]\s+(.*)$")
_ITEM = re.compile(r"^[-*+]\s+(.*)$")
_HEAD = re.compile(r"^(#{1,6})\s+(.*)$")


def _inline(text: str) -> str:
    """Escaped text with **bold** kept; a backslash-escaped character shows as itself."""
    held: list[str] = []

    def hold(match: re.Match[str]) -> str:
        held.append(match.group(1))
        return f"\x00{len(held) - 1}\x00"

    marked = _ESCAPED.sub(hold, text)
    safe = html.escape(marked, quote=True)
    safe = _BOLD.sub(r"<strong>\1</strong>", safe)
    return re.sub("\x00(\\d+)\x00", lambda m: html.escape(held[int(m.group(1))]), safe)


def _blocks(markdown: str) -> list[str]:
    out: list[str] = []
    para: list[str] = []
    quote: list[str] = []
    items: list[str] = []
    checklist = False

    def flush() -> None:
        nonlocal checklist
        if para:
            out.append("<p>" + " ".join(_inline(p) for p in para) + "</p>")
            para.clear()
        if quote:
            joined = "<br>".join(_inline(q) for q in quote).strip()
            paragraphs = [q for q in re.split(r"(?:<br>){2,}", joined) if q]
            out.append("<blockquote>" + "".join(f"<p>{q}</p>" for q in paragraphs)
                       + "</blockquote>")  # fmt: skip
            quote.clear()
        if items:
            cls = ' class="checklist"' if checklist else ""
            out.append(f"<ul{cls}>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()
            checklist = False

    for raw in markdown.splitlines():
        line = raw.strip()
        head, check, item = _HEAD.match(line), _CHECK.match(line), _ITEM.match(line)
        if not line:
            flush()
        elif head:
            flush()
            level = len(head.group(1))
            out.append(f"<h{level}>{_inline(head.group(2))}</h{level}>")
        elif line.startswith(">"):
            if not quote:
                flush()
            quote.append(line[1:].strip())
        elif check:
            if not items:
                flush()
            checklist = checklist or not items
            box = "☑" if check.group(1) in "xX" else "☐"
            items.append(f"{box} {_inline(check.group(2))}")
        elif item:
            if not items:
                flush()
            items.append(_inline(item.group(1)))
        else:
            if items or quote:
                flush()
            para.append(line)
    flush()
    return out


def to_html(markdown: str, title: str, meta: str = "") -> str:
    """A self-contained, printable page; every text escaped, no script, no link."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
    ]
    if meta:
        parts.append(f'<p class="meta">{html.escape(meta)}</p>')
    parts += _blocks(markdown)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
