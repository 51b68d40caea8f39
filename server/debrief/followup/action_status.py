"""What may happen to an action after its review closed: status changes, their evidence
and reasons, who may verify, and the history line each change leaves.

Pure: the caller passes the current action-state, who acts, what they ask for and the
time; it gets the new action-state back or a refusal (a DomainError with its HTTP code).
Who may touch an action at all (its owner, the review's moderator or scribe, a team
admin) is the HTTP layer's question; only verifying has a rule of its own here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from debrief.followup.people import fold_name
from debrief.meeting.errors import Conflict, DomainError, Forbidden, ValidationError
from debrief.teams.keys import ACTION_STATUSES, UNDONE_STATUSES, day_score

MAX_EVIDENCE = 2_000  # chars of an evidence link and of an evidence text
MAX_REASON = 2_000
MAX_NOTE = 2_000
MAX_HISTORY = 200  # history lines kept per action (the oldest go first)

# Who acted, as recorded in the history.
OWNER, MODERATOR, SCRIBE, TEAM_ADMIN = "owner", "moderator", "scribe", "team-admin"
API_TOKEN = "api-token"  # a team's script: posts progress, never vouches for evidence
ACTOR_ROLES = (OWNER, MODERATOR, SCRIBE, TEAM_ADMIN, API_TOKEN)
VERIFIERS = (MODERATOR, SCRIBE, TEAM_ADMIN)  # a second person confirms the evidence

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: their name, in which capacity, and their person id when
    they came through their personal link."""

    name: str
    role: str
    person_id: str = ""


@dataclass(frozen=True)
class Change:
    """What the actor asks for. Empty strings mean "not given"."""

    status: str
    evidence_url: str = ""
    evidence_text: str = ""
    reason: str = ""
    note: str = ""


def is_owner(actor: Actor, state: dict[str, Any]) -> bool:
    """Whether the actor is the action's owner, by person id or by name."""
    owner_id = str(state.get("owner_id") or "")
    if actor.person_id and owner_id and actor.person_id == owner_id:
        return True
    owner = fold_name(str(state.get("owner") or ""))
    return bool(owner) and fold_name(actor.name) == owner


def is_overdue(state: dict[str, Any], today: date) -> bool:
    """Past due and not done yet (an action without a due date is never overdue)."""
    if state.get("status") not in UNDONE_STATUSES:
        return False
    return day_score(str(state.get("due") or "")) < today.toordinal()


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if _CONTROL_RE.search(text):
        raise ValidationError(f"{field} contains control characters", field=field)
    if len(text) > limit:
        raise ValidationError(
            f"{field} is {len(text)} characters long; the limit is {limit}", field=field
        )
    return text


def _link(value: str) -> str:
    link = _text(value, "evidence.url", MAX_EVIDENCE)
    if not link:
        return ""
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not host or " " in link:
        raise ValidationError(
            "the evidence link must be a web address starting with http:// or https://",
            error="bad-evidence",
            field="evidence.url",
        )
    return link


def _evidence(change: Change) -> dict[str, str] | None:
    url = _link(change.evidence_url)
    text = _text(change.evidence_text, "evidence.text", MAX_EVIDENCE)
    return {"url": url, "text": text} if url or text else None


def _check_verify(state: dict[str, Any], actor: Actor) -> None:
    if actor.role == API_TOKEN:
        raise Forbidden(
            "an API token cannot verify an action: a person confirms the evidence",
            error="token-cannot-verify",
        )
    if actor.role not in VERIFIERS or is_owner(actor, state):
        raise Forbidden(
            "an action is verified by someone other than its owner: the moderator or "
            "scribe of its review, or a team admin",
            error="owner-cannot-verify",
        )
    if state.get("status") not in ("done", "verified"):  # verified again: only a note
        raise Conflict(
            "only an action marked done (with its evidence) can be verified",
            error="not-done",
        )


def apply(state: dict[str, Any], actor: Actor, change: Change, now_ms: int) -> dict[str, Any]:
    """The action-state after ``change`` by ``actor``, with a history line; or a refusal."""
    if actor.role not in ACTOR_ROLES:
        raise Forbidden("you may not change the status of this action")
    target = change.status
    if target not in ACTION_STATUSES:
        allowed = ", ".join(ACTION_STATUSES)
        raise ValidationError(
            f"unknown status {target!r}; use one of: {allowed}", error="bad-status", field="status"
        )
    current = str(state.get("status") or "open")
    evidence = _evidence(change)
    reason = _text(change.reason, "reason", MAX_REASON)
    note = _text(change.note, "note", MAX_NOTE)

    if target == "done" and evidence is None:
        raise DomainError(
            "say how you know it is done: add a link or a short text as evidence",
            error="evidence-required",
        )
    if target == "wont-do" and not reason:
        raise DomainError(
            "write why this action will not be done", error="reason-required", field="reason"
        )
    if target == "verified":
        _check_verify(state, actor)

    same_evidence = evidence is None or evidence == _plain_evidence(state.get("evidence"))
    same_reason = not reason or reason == state.get("reason")
    if target == current and not note and same_evidence and same_reason:
        raise Conflict(f"the action is already {target}; nothing new was given", error="no-change")

    stamped = None if evidence is None else {**evidence, "at_ms": now_ms, "by": actor.name}
    if stamped is None and target in ("done", "verified"):
        stamped = state.get("evidence")  # verifying confirms the evidence given with done
    entry = {
        "at_ms": now_ms,
        "by": actor.name,
        "role": actor.role,
        "from": current,
        "to": target,
        "note": note,
        "evidence": None if evidence is None else dict(evidence),
        "reason": reason,
    }
    history = [*_history(state.get("history")), entry][-MAX_HISTORY:]
    return {
        **state,
        "status": target,
        "evidence": stamped,
        "reason": reason if target == "wont-do" else "",
        "verified_by": _verifier(state, actor, target),
        "history": history,
        "updated_ms": now_ms,
    }


def _verifier(state: dict[str, Any], actor: Actor, target: str) -> str:
    if target != "verified":
        return ""
    return str(state.get("verified_by") or "") if state.get("status") == "verified" else actor.name


def _plain_evidence(value: Any) -> dict[str, str] | None:
    if not isinstance(value, dict):
        return None
    return {"url": str(value.get("url") or ""), "text": str(value.get("text") or "")}


def _history(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def without_history(state: dict[str, Any]) -> dict[str, Any]:
    """The action-state as lists show it (the history is read one action at a time)."""
    return {key: value for key, value in state.items() if key != "history"}


def new_state(
    *,
    review: dict[str, Any],
    team_id: str,
    gid: str,
    action: dict[str, Any],
    owner_id: str,
    now_ms: int,
) -> dict[str, Any]:
    """The action-state of an action of a review that just closed: open, no history."""
    return {
        "gid": gid,
        "review_id": str(review.get("id") or ""),
        "review_title": str(review.get("title") or ""),
        "team_id": team_id,
        "action_id": str(action.get("id") or ""),
        "what": str(action.get("what") or ""),
        "owner": str(action.get("owner") or ""),
        "owner_id": owner_id,
        "due": str(action.get("due") or ""),
        "verify": str(action.get("verify") or ""),
        "kind": str(action.get("kind") or ""),
        "status": "open",
        "evidence": None,
        "reason": "",
        "verified_by": "",
        "history": [],
        "created_ms": now_ms,
        "updated_ms": now_ms,
    }


SUMMARY_KEYS = (
    "gid", "review_id", "review_title", "what", "owner", "owner_id", "due", "status", "kind",
    "verify", "evidence", "reason", "verified_by", "created_ms", "updated_ms",
)  # fmt: skip


def summary(state: dict[str, Any]) -> dict[str, Any]:
    """What an index keeps of an action: enough for a list row and a person's page (no
    history), and when it was last marked done (for "days to done" across reviews)."""
    found = {key: state.get(key, "") for key in SUMMARY_KEYS}
    found["done_ms"] = done_at(state)
    return found


def done_at(state: dict[str, Any]) -> int | None:
    """When the action was last marked done (None if it never was)."""
    history = state.get("history")
    for entry in reversed(history if isinstance(history, list) else []):
        if isinstance(entry, dict) and entry.get("to") == "done":
            at = entry.get("at_ms")
            return at if isinstance(at, int) else None
    return None
