"""Exports to Jira (CSV), GitHub issues (JSON) and Linear (CSV), checked against what each
tracker documents for its import; then the same exports from a real server.

Documented fields used here:
- Jira, "Importing data from CSV" (Atlassian): a header row with a Summary column is
  required; columns map to fields such as Summary, Issue Type, Description, Assignee,
  Reporter, Priority, Due Date, Labels (one label per column, repeated Labels columns;
  labels contain no spaces); user fields take email addresses; every row has every
  column; the date format is given in the wizard (we write yyyy-MM-dd).
- GitHub REST "Create an issue" (POST /repos/{owner}/{repo}/issues) body: title
  (required, string or integer), body, assignee (deprecated), milestone, labels
  (strings or objects), assignees (logins).
- Linear CSV (the columns of Linear's CSV export, read by its importer): Title,
  Description, Status, Priority ("No priority", "Urgent", "High", "Medium", "Low"),
  Assignee, Labels (comma-and-space separated), Due Date, ...
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs

from debrief.delivery import trackers
from support.server import ServerProcess
from support.teams import Team, new_team, team_review

JIRA_FIELDS = {
    "Summary", "Issue Type", "Description", "Assignee", "Reporter", "Priority", "Due Date",
    "Labels", "Component/s", "Fix Version/s", "Affects Version/s", "Environment",
    "Original Estimate", "Issue Id", "Parent Id", "Status", "Resolution",
}  # fmt: skip
LINEAR_FIELDS = {
    "ID", "Team", "Title", "Description", "Status", "Estimate", "Priority", "Project",
    "Creator", "Assignee", "Labels", "Cycle Number", "Cycle Name", "Cycle Start",
    "Cycle End", "Created", "Updated", "Started", "Completed", "Canceled", "Archived",
    "Due Date", "Parent issue",
}  # fmt: skip
LINEAR_PRIORITIES = {"No priority", "Urgent", "High", "Medium", "Low"}
LINEAR_DEFAULT_STATES = {"Backlog", "Todo", "In Progress", "In Review", "Done", "Canceled"}
# GitHub's "Create an issue" request body, written from the REST reference.
GITHUB_CREATE_ISSUE = {
    "type": "object",
    "required": ["title"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": ["string", "integer"], "minLength": 1},
        "body": {"type": ["string", "null"]},
        "assignee": {"type": ["string", "null"]},
        "milestone": {"type": ["string", "integer", "null"]},
        "labels": {
            "type": "array",
            "items": {
                "oneOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "name": {"type": "string"},
                            "description": {"type": ["string", "null"]},
                            "color": {"type": ["string", "null"]},
                        },
                    },
                ]
            },
        },
        "assignees": {
            "type": "array",
            "items": {
                "type": "string",
                "pattern": "^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$",
            },
        },
    },
}
BASE = "https://debrief.example.com"
GID = re.compile(r"Debrief action (\S+)")

ACTIONS: list[dict[str, Any]] = [
    {"gid": "r_a.1", "review_id": "r_a", "review_title": "Checkout, outage \"3 Nov\"",
     "what": "Add a second approver to deploys, everywhere", "owner": "Priya N",
     "owner_id": "pe_p", "due": "2026-12-05", "verify": "Next two deploys show it",
     "kind": "preventive-control", "status": "open"},
    {"gid": "r_a.2", "review_id": "r_a", "review_title": "Checkout outage",
     "what": "=HYPERLINK(\"http://evil\")\nsecond line", "owner": "Omar K", "owner_id": "",
     "due": "", "verify": "", "kind": "", "status": "done"},
    {"gid": "r_b.7", "review_id": "r_b", "review_title": "Search slow",
     "what": "Écrire le runbook " + "x" * 400, "owner": "", "owner_id": "pe_x",
     "due": "not a date", "verify": "a drill passes", "kind": "documentation-ownership",
     "status": "wont-do"},
    {"gid": "r_a.1", "review_id": "r_a", "what": "the same action twice is listed once"},
]  # fmt: skip
PEOPLE = {
    "pe_p": {"id": "pe_p", "name": "Priya N", "email": "priya@example.com", "handle": "@priya-n"},
    "pe_x": {"id": "pe_x", "name": "Xavier", "email": "", "handle": "not a login!"},
}


def rows_of(text: str) -> list[list[str]]:
    assert "\r\n" in text  # RFC 4180 line ends
    return list(csv.reader(io.StringIO(text, newline="")))


def gids_in(descriptions: list[str]) -> list[str]:
    found = []
    for text in descriptions:
        match = GID.search(text)
        assert match, text
        found.append(match.group(1))
    return found


def check_jira(text: str, expected_gids: list[str]) -> list[dict[str, Any]]:
    header, *rows = rows_of(text)
    assert "Summary" in header and set(header) <= JIRA_FIELDS
    assert not any(re.search(r"[^\w /]", h) for h in header)  # no punctuation in headers
    described = []
    for row in rows:
        assert len(row) == len(header)  # no omitted commas
        cells = dict(zip(header, row, strict=True))
        assert cells["Summary"] and "\n" not in cells["Summary"] and len(cells["Summary"]) <= 255
        if cells["Due Date"]:
            datetime.strptime(cells["Due Date"], "%Y-%m-%d")
        labels = [v for h, v in zip(header, row, strict=True) if h == "Labels" and v]
        assert labels and all(" " not in label for label in labels)
        described.append({**cells, "labels": labels})
    assert sorted(gids_in([d["Description"] for d in described])) == sorted(expected_gids)
    return described


def check_github(text: str, expected_gids: list[str]) -> list[dict[str, Any]]:
    issues = json.loads(text)
    assert isinstance(issues, list)
    validator = jsonschema_rs.validator_for(GITHUB_CREATE_ISSUE)
    for issue in issues:
        errors = [e.message for e in validator.iter_errors(issue)]
        assert not errors, (issue, errors)
    assert sorted(gids_in([i["body"] for i in issues])) == sorted(expected_gids)
    return list(issues)


def check_linear(text: str, expected_gids: list[str]) -> list[dict[str, str]]:
    header, *rows = rows_of(text)
    assert "Title" in header and set(header) <= LINEAR_FIELDS
    found = []
    for row in rows:
        assert len(row) == len(header)
        cells = dict(zip(header, row, strict=True))
        assert cells["Title"] and cells["Priority"] in LINEAR_PRIORITIES
        assert cells["Status"] in LINEAR_DEFAULT_STATES
        if cells["Due Date"]:
            date.fromisoformat(cells["Due Date"])
        found.append(cells)
    assert sorted(gids_in([c["Description"] for c in found])) == sorted(expected_gids)
    return found


# --- the formats, offline -------------------------------------------------------------


def test_jira_csv_follows_the_documented_import() -> None:
    items = trackers.items(ACTIONS, BASE, PEOPLE)
    rows = check_jira(trackers.jira_csv(items), ["r_a.1", "r_a.2", "r_b.7"])
    first, formula, long = rows
    assert first["Summary"] == "Add a second approver to deploys, everywhere"
    assert first["Assignee"] == "priya@example.com"  # an email where the directory has one
    assert first["Due Date"] == "2026-12-05" and first["Issue Type"] == "Task"
    assert first["labels"] == ["debrief", "preventive-control"]
    assert "Next two deploys show it" in first["Description"]
    assert f"{BASE}/r/r_a/recap" in first["Description"]
    assert formula["Summary"].startswith("'=")  # never a spreadsheet formula
    assert formula["Assignee"] == "Omar K" and formula["Due Date"] == ""
    assert len(long["Summary"]) == 255 and long["Summary"].endswith("…")
    assert long["Due Date"] == ""  # an unreadable date is left out, not passed on


def test_github_issue_bodies_follow_the_rest_api() -> None:
    items = trackers.items(ACTIONS, BASE, PEOPLE)
    first, formula, long = check_github(trackers.github_json(items), ["r_a.1", "r_a.2", "r_b.7"])
    assert first["assignees"] == ["priya-n"]  # the handle, without its @
    assert first["labels"] == ["debrief", "preventive-control"]
    assert "Due: 2026-12-05" in first["body"] and f"{BASE}/r/r_a/recap" in first["body"]
    assert "assignees" not in formula and "assignees" not in long  # no login: nobody
    assert "Status in Debrief: won't do" in long["body"]
    assert trackers.github_json([]) == "[]\n"


def test_linear_csv_follows_its_import_columns() -> None:
    items = trackers.items(ACTIONS, BASE, PEOPLE)
    first, formula, long = check_linear(trackers.linear_csv(items), ["r_a.1", "r_a.2", "r_b.7"])
    assert first["Labels"].split(", ") == ["debrief", "preventive-control"]
    assert first["Status"] == "Todo" and formula["Status"] == "In Review"
    assert long["Status"] == "Canceled"
    assert first["Due Date"] == "2026-12-05" and first["Assignee"] == "priya@example.com"
    assert formula["Title"].startswith("'=")  # Linear's importer strips this apostrophe


# --- from a real server ---------------------------------------------------------------


async def closed_review_with_actions(
    server: ServerProcess, team: Team, title: str
) -> tuple[Any, list[str]]:
    later = (datetime.now(UTC).date() + timedelta(days=20)).isoformat()
    priya = {"name": "Priya N", "email": "priya@example.com", "handle": "priya"}
    person = await team.ok("member", "POST", "/people", priya)
    review = await team_review(server, team, title)
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    ids = []
    for body in (
        {"what": "Page the database owner on disk alerts", "owner_id": person["id"],
         "due": later, "verify": "The next disk alert pages them", "kind": "monitoring"},
        {"what": "Write the disk runbook", "owner": "Omar K", "due": later,
         "verify": "A drill follows it", "kind": "documentation-ownership"},
    ):  # fmt: skip
        ids.append((await review.ok("scribe", "POST", "/actions", body))["id"])
    return review, [f"{review.id}.{i}" for i in ids]


async def test_exports_from_a_server(shared_server: ServerProcess, http: httpx.AsyncClient) -> None:
    team = await new_team(http)
    review, gids = await closed_review_with_actions(shared_server, team, "Disk full, 3 Nov")

    # while the review is open: its current action items
    draft = await review.call("observer", "GET", "/actions/export?format=github")
    assert draft.status_code == 200, draft.text
    check_github(draft.text, gids)

    closed = await review.call("moderator", "POST", "/close", {})
    assert closed.status_code == 200, closed.text

    answers = {}
    for name in ("jira", "github", "linear"):
        got = await review.call("participant", "GET", f"/actions/export?format={name}")
        assert got.status_code == 200, got.text
        assert "attachment" in got.headers["content-disposition"]
        answers[name] = got
    assert answers["jira"].headers["content-type"].startswith("text/csv")
    assert answers["github"].headers["content-type"].startswith("application/json")
    jira = check_jira(answers["jira"].text, gids)
    assert jira[0]["Assignee"] == "priya@example.com"
    link = f"{shared_server.url}/r/{review.id}/recap"
    assert link in jira[0]["Description"]
    github = check_github(answers["github"].text, gids)
    assert github[0]["assignees"] == ["priya"]
    check_linear(answers["linear"].text, gids)

    # an observer's export names owners but leaves out the directory's emails
    seen = await review.call("observer", "GET", "/actions/export?format=jira")
    assert seen.status_code == 200 and "priya@example.com" not in seen.text
    bad = await review.call("moderator", "GET", "/actions/export?format=excel")
    assert bad.status_code == 422 and bad.json()["error"] == "invalid-query"
    nobody = await http.get(f"/api/reviews/{review.id}/actions/export?format=jira")
    assert nobody.status_code == 401

    # the team's export: pending by default, every action with view=all
    gid_done = gids[1]
    done = await team.call("admin", "POST", f"/actions/{gid_done}/status",
                           {"status": "wont-do", "reason": "the disk is gone"})  # fmt: skip
    assert done.status_code == 200, done.text
    pending = await team.call("member", "GET", "/actions/export?format=linear")
    assert pending.status_code == 200, pending.text
    check_linear(pending.text, gids[:1])
    every = await team.call("member", "GET", "/actions/export?format=jira&view=all")
    check_jira(every.text, gids)
    for query in ("format=jira&view=overdue", "view=all"):
        refused = await team.call("member", "GET", f"/actions/export?{query}")
        assert refused.status_code == 422, query
