"""Names shared by every part of the follow-through: record kinds and index names.

One place, so the team pages, the action tracker, migrations and the bench agree on
where things are kept.
"""

from __future__ import annotations

from datetime import date
from typing import Any

# Reviews created before teams existed (and POST /api/reviews without a team) belong here.
DEFAULT_TEAM_ID = "t_default"
DEFAULT_TEAM_NAME = "Default team"

# Record kinds. The storage's grouping column (``review_id``) holds the team id for the
# team-level kinds, so ``list_records(kind, team_id)`` lists them per team.
TEAM = "team"  # id: team id
TEAM_LINK = "team-link"  # id: link code; grouped by team
TEAM_SESSION = "team-session"  # id: session id; grouped by team
PERSON = "person"  # id: person id; grouped by team
PERSON_LINK = "person-link"  # id: personal link code -> {code, person_id, team_id}
PERSON_NAME = "person-name"  # id: "<team>:<folded name>" -> {person_id}; finds by name
ACTION_STATE = "action-state"  # id: action gid; grouped by its review (purged with it)
META = "meta"  # id "schema": {"version": n}

ACTION_STATUSES = ("open", "in-progress", "done", "verified", "wont-do")
PENDING_STATUSES = ("open", "in-progress", "done")  # still asks something of someone
UNDONE_STATUSES = ("open", "in-progress")  # overdue when past due
NO_DUE_SCORE = 10_000_000.0  # sorts actions without a due date after every dated one


def team_of(review: dict[str, Any]) -> str:
    """The team a review belongs to (older reviews carry no team id)."""
    team_id = review.get("team_id")
    return team_id if isinstance(team_id, str) and team_id else DEFAULT_TEAM_ID


def action_gid(review_id: str, action_id: str) -> str:
    """An action's id across reviews (action ids are only unique within their review)."""
    return f"{review_id}.{action_id}"


def day_score(due: str) -> float:
    """An ISO date as a sortable number (days since 0001-01-01); no date sorts last."""
    try:
        return float(date.fromisoformat(due).toordinal())
    except (TypeError, ValueError):
        return NO_DUE_SCORE


# Sorted indexes (see Storage.index_*).


def reviews_index(team_id: str) -> str:
    """Every review of a team; score: created_ms."""
    return f"team/{team_id}/reviews"


def status_index(team_id: str, status: str) -> str:
    """A team's actions in one status; score: day_score(due)."""
    return f"team/{team_id}/actions/{status}"


def person_index(person_id: str) -> str:
    """Every action a person owns, across reviews; score: day_score(due)."""
    return f"person/{person_id}/actions"


def person_status_index(person_id: str, status: str) -> str:
    """A person's actions in one status; score: day_score(due). Their page and "my
    actions" read only the statuses they show, not everything the person ever owned."""
    return f"person/{person_id}/actions/{status}"


SETTLED_STATUSES = ("verified", "wont-do")  # asks nothing more of anyone


def people_index(team_id: str) -> str:
    """A team's directory; score: created_ms."""
    return f"team/{team_id}/people"


def review_term_index(team_id: str, term: str) -> str:
    """A team's reviews whose title, event or question has a word starting with ``term``;
    score: created_ms; data: {"s": status, "k": kind}, so filters need no other read."""
    return f"team/{team_id}/terms/{term}"


def review_kind_index(team_id: str, kind: str) -> str:
    """A team's reviews of one kind; score: created_ms; data: {"s": status}."""
    return f"team/{team_id}/kinds/{kind}"


def review_status_index(team_id: str, status: str) -> str:
    """A team's reviews in one status (draft/scheduled/live/closed); score: created_ms.

    Lets the team page count reviews per status and list one status without a scan."""
    return f"team/{team_id}/reviews/{status}"
