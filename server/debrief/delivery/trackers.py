"""Actions in the import formats of the teams' own trackers: Jira (CSV), GitHub issues
(JSON) and Linear (CSV).

Pure: action dicts in (an action-state, an index summary or a recap action), text out.
Each tracker gets one row / issue per action with what it asks, who owns it, when it is
due, how we will know it worked, its kind and a link back to its review.

- Jira (CSV importer): a header row with a Summary column (required); multiple labels
  go in repeated Labels columns; people are best given as email addresses; dates are
  written yyyy-MM-dd (give that as the date format in the import wizard).
- GitHub: a JSON array of bodies for "create an issue" (POST /repos/{owner}/{repo}/
  issues): title (required), body, labels, assignees (logins; only a person's handle
  that is a valid GitHub login). GitHub issues have no due date: it is in the body.
- Linear (CSV import, the columns of Linear's own CSV export): Title, Description,
  Status, Priority, Assignee, Labels (comma separated), Due Date.

Spreadsheets run a cell that starts with = + - @ as a formula; such cells get a leading
apostrophe (the convention Linear's importer strips again).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

JIRA_COLUMNS = ("Summary", "Issue Type", "Description", "Assignee", "Due Date", "Labels",
                "Labels")  # fmt: skip
LINEAR_COLUMNS = ("Title", "Description", "Status", "Priority", "Assignee", "Labels", "Due Date")
JIRA_ISSUE_TYPE = "Task"
JIRA_DATE_FORMAT = "yyyy-MM-dd"  # what to enter as the date format in Jira's wizard
LINEAR_NO_PRIORITY = "No priority"
MAX_TITLE = 255  # Jira's summary limit; short enough for GitHub and Linear titles too
LABEL = "debrief"
GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Debrief status -> a state of Linear's default workflow.
LINEAR_STATUS = {
    "open": "Todo",
    "in-progress": "In Progress",
    "done": "In Review",  # marked done, waiting for someone to verify it
    "verified": "Done",
    "wont-do": "Canceled",
}
STATUS_WORDS = {
    "open": "open",
    "in-progress": "in progress",
    "done": "done, waiting to be verified",
    "verified": "verified",
    "wont-do": "won't do",
}


@dataclass(frozen=True)
class Item:
    """One action as the exports need it."""

    gid: str
    what: str
    owner: str
    owner_email: str
    owner_handle: str
    due: str  # yyyy-mm-dd or ""
    verify: str
    kind: str
    status: str
    review_title: str
    link: str  # absolute URL of the review's recap


def items(
    actions: Iterable[Mapping[str, Any]],
    base_url: str,
    people: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[Item]:
    """Export items from actions; ``people`` (person id -> person) adds owners' email
    and handle. Each gid appears once, in the order given."""
    people = people or {}
    seen: set[str] = set()
    found = []
    for action in actions:
        gid = _text(action.get("gid"))
        if not gid or gid in seen:
            continue
        seen.add(gid)
        person = people.get(_text(action.get("owner_id"))) or {}
        review_id = _text(action.get("review_id"))
        found.append(
            Item(
                gid=gid,
                what=_text(action.get("what")),
                owner=_text(action.get("owner")) or _text(person.get("name")),
                owner_email=_text(person.get("email")),
                owner_handle=_text(person.get("handle")).lstrip("@"),
                due=_day(action.get("due")),
                verify=_text(action.get("verify")),
                kind=_text(action.get("kind")),
                status=_text(action.get("status")) or "open",
                review_title=_text(action.get("review_title")),
                link=f"{base_url.rstrip('/')}/r/{review_id}/recap",
            )
        )
    return found


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _day(value: Any) -> str:
    try:
        return date.fromisoformat(_text(value)).isoformat()
    except ValueError:
        return ""


def title(item: Item) -> str:
    text = " ".join(item.what.split()) or "Action from a review"
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"


def description(item: Item) -> str:
    """The body every tracker gets (Markdown, readable as plain text too)."""
    lines = [item.what or "(no description)", ""]
    lines.append(f"- Owner: {item.owner or 'nobody yet'}")
    lines.append(f"- Due: {item.due or 'no date'}")
    lines.append(f"- How we will know it worked: {item.verify or 'not said'}")
    if item.kind:
        lines.append(f"- Kind: {item.kind}")
    lines.append(f"- Status in Debrief: {STATUS_WORDS.get(item.status, item.status)}")
    source = f'the review "{item.review_title}"' if item.review_title else "its review"
    lines += ["", f"From {source}: {item.link}", f"Debrief action {item.gid}"]
    return "\n".join(lines)


def labels(item: Item) -> list[str]:
    return [LABEL, item.kind] if item.kind else [LABEL]


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(header)
    writer.writerows([_cell(c) for c in row] for row in rows)
    return out.getvalue()


def jira_csv(found: Iterable[Item]) -> str:
    rows = []
    for item in found:
        tags = labels(item) + [""] * 2
        rows.append(
            [
                title(item),
                JIRA_ISSUE_TYPE,
                description(item),
                item.owner_email or item.owner,
                item.due,
                tags[0],
                tags[1],
            ]
        )
    return _csv(JIRA_COLUMNS, rows)


def github_issue(item: Item) -> dict[str, Any]:
    """One body for POST /repos/{owner}/{repo}/issues (or `gh api ... --input`)."""
    issue: dict[str, Any] = {"title": title(item), "body": description(item),
                             "labels": labels(item)}  # fmt: skip
    if GITHUB_LOGIN.match(item.owner_handle):
        issue["assignees"] = [item.owner_handle]
    return issue


def github_json(found: Iterable[Item]) -> str:
    return json.dumps([github_issue(i) for i in found], indent=2, ensure_ascii=False) + "\n"


def linear_csv(found: Iterable[Item]) -> str:
    rows = [
        [
            title(item),
            description(item),
            LINEAR_STATUS.get(item.status, "Todo"),
            LINEAR_NO_PRIORITY,
            item.owner_email or item.owner,
            ", ".join(labels(item)),
            item.due,
        ]
        for item in found
    ]
    return _csv(LINEAR_COLUMNS, rows)


# format name -> (media type, file extension, renderer)
FORMATS: dict[str, tuple[str, str, Callable[[Iterable[Item]], str]]] = {
    "jira": ("text/csv; charset=utf-8", "csv", jira_csv),
    "github": ("application/json", "json", github_json),
    "linear": ("text/csv; charset=utf-8", "csv", linear_csv),
}


def render(name: str, found: Iterable[Item]) -> tuple[str, str, str]:
    """(text, media type, extension) of an export; KeyError for an unknown format."""
    media, extension, renderer = FORMATS[name]
    return renderer(found), media, extension
