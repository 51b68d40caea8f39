"""What the API fuzz test aims at: a live review with a session per role and ids that
exist in it, who sends each request, and the check every error answer must pass.

Generated path ids and invite codes are almost never real, so most requests would stop
at a 404 or 403 before any handler ran. `Target` holds real ones to put in their place
most of the time; the rest stay random, so the refusals are fuzzed too.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.core.parameters import ParameterLocation

ROLES = ("moderator", "scribe", "participant", "observer")
# Who sends a request: a role of the target review, nobody, a session of another review,
# a token the server never issued, or the moderator's cookie without an Origin header.
IDENTITIES = (*ROLES, "nobody", "stranger", "forged", "cookie")
# Rate limits far above what the fuzzing sends: it checks answers, not the limiter
# (tests of the limits set them low on purpose). Names from server/debrief/settings.py.
FUZZ_ENV = {
    "DEBRIEF_RATE_JOINS": "100000/minute",
    "DEBRIEF_RATE_BAD_INVITES": "100000/minute",
    "DEBRIEF_RATE_CREATES": "100000/minute",
    "DEBRIEF_RATE_SESSION": "100000/second",
    "DEBRIEF_RATE_IP": "100000/second",
}
Choose = Callable[[Sequence[Any]], Any]
# Path parameters (and body fields) whose generated values are replaced by real ids.
ID_FIELDS = {
    "phase_id": "phase_id",
    "participant_id": "participant_id",
    "note_id": "note_id",
    "theme_id": "theme_id",
    "action_id": "action_id",
    "code": "code",
    "target": "note_id",
    "invite": "invite",
}
# Body fields that list ids: replaced by every real id of that kind.
LIST_FIELDS = {"note_ids": "note_id", "theme_ids": "theme_id", "order": "phase_id"}


@dataclass
class Target:
    """A review being fuzzed, with a session per role and ids that exist in it."""

    review_id: str
    tokens: dict[str, str]
    other_review_id: str
    other_token: str
    ids: dict[str, list[str]] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        token = {"stranger": self.other_token, "forged": "s." + secrets.token_urlsafe(24)}.get(
            who, self.tokens.get(who)
        )
        return {"Authorization": f"Bearer {token}"} if token and who != "cookie" else {}

    def cookies(self, who: str) -> dict[str, str]:
        return {"debrief_session": self.tokens["moderator"]} if who == "cookie" else {}


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.request.url, response.text)
    data: dict[str, Any] = response.json()
    return data


def _review(http: httpx.Client, title: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """A new review: its id, its invite links and a session token per role."""
    created = _ok(http.post("/api/reviews", json={"title": title}), 201)
    tokens = {
        role: _ok(http.post("/api/join", json={"invite": link, "name": role}))["token"]
        for role, link in created["invites"].items()
    }
    return created["id"], created["invites"], tokens


def open_target(http: httpx.Client) -> Target:
    """A fresh review with an agenda, a theme, an action item and a note in it."""
    review_id, invites, tokens = _review(http, "Fuzzed review")
    other_id, _, other_tokens = _review(http, "Another review")
    base = f"/api/reviews/{review_id}"

    def as_(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    agenda = _ok(
        http.put(base + "/agenda", json={"template": "incident"}, headers=as_("moderator"))
    )
    theme = _ok(
        http.post(base + "/themes", json={"title": "Alerts"}, headers=as_("moderator")), 201
    )
    action = _ok(
        http.post(base + "/actions", json={"what": "Add an alert"}, headers=as_("scribe")), 201
    )
    note = _ok(
        http.post(base + "/notes", json={"text": "Pager was silent"}, headers=as_("participant")),
        201,
    )
    attendees = _ok(http.get(base + "/attendees", headers=as_("moderator")))["attendees"]
    # Never the moderator's own code: revoking it would end the session the fuzzing uses.
    codes = [link.rsplit("/", 1)[-1] for role, link in invites.items() if role != "moderator"]
    ids = {
        "phase_id": [p["id"] for p in agenda["agenda"]],
        "participant_id": [a["participant_id"] for a in attendees],
        "note_id": [note["id"]],
        "theme_id": [theme["id"]],
        "action_id": [action["id"]],
        "code": codes,
        "invite": [invites["participant"], invites["observer"]],
    }
    return Target(review_id, tokens, other_id, other_tokens["moderator"], ids)


def aim(case: Case, target: Target, choose: Choose) -> None:
    """Put real ids in place of generated ones, most of the time.

    `choose` picks one of the options: Hypothesis draws it while fuzzing, the coverage
    pass takes the first. A part generated invalid on purpose is left as it is.
    """
    meta = case.meta
    if case.path_parameters and not (meta and meta.is_negative_at(ParameterLocation.PATH)):
        for name in list(case.path_parameters):
            options = _options(name, target)
            if options and (value := choose([*options, *options, None])) is not None:
                case.path_parameters[name] = value
    body_negative = meta is not None and meta.is_negative_at(ParameterLocation.BODY)
    if isinstance(case.body, dict) and not body_negative:
        for key in list(case.body):
            options = _options(key, target)
            if options and (value := choose([*options, *options, None])) is not None:
                case.body[key] = value
            elif key in LIST_FIELDS and choose([True, True, False]):
                case.body[key] = list(target.ids[LIST_FIELDS[key]])


def _options(name: str, target: Target) -> list[str]:
    if name == "review_id":
        return [target.review_id] * 4 + [target.other_review_id]
    return target.ids.get(ID_FIELDS.get(name, ""), [])


@schemathesis.check
def error_is_json(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """Every 4xx and 5xx answer is the JSON error {"error": code, "detail": text}."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(
            f"{response.status_code} answer is not JSON: {response.content[:200]!r}"
        ) from None
    assert isinstance(body, dict), f"{response.status_code} answer is not a JSON object"
    assert isinstance(body.get("error"), str) and body["error"], f"no error code: {body}"
    assert "detail" in body, f"no detail: {body}"
    return None


def unbounded(schema: dict[str, Any], path: str = "") -> list[str]:
    """Where a request schema lets a client send as much as it likes: strings without
    maxLength, arrays without maxItems, numbers without a maximum, objects open to any
    key, and values of any type."""
    if "$ref" in schema or "enum" in schema or "const" in schema:
        return []  # a $ref is checked as its own component
    if "anyOf" in schema:
        return [found for branch in schema["anyOf"] for found in unbounded(branch, path)]
    kind = schema.get("type")
    found: list[str] = []
    if kind is None:
        found.append(f"{path}: any value")
    elif kind == "string" and "maxLength" not in schema:
        found.append(f"{path}: no maxLength")
    elif kind in ("integer", "number") and not {"maximum", "exclusiveMaximum"} & set(schema):
        found.append(f"{path}: no maximum")
    elif kind == "array":
        if "maxItems" not in schema:
            found.append(f"{path}: no maxItems")
        found += unbounded(schema.get("items", {}), path + "[]")
    elif kind == "object":
        if schema.get("additionalProperties", False) is not False:
            found.append(f"{path}: any key")
        for key, value in schema.get("properties", {}).items():
            found += unbounded(value, f"{path}.{key}")
    return found
