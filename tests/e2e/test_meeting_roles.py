"""Every meeting command against the role matrix and bad input, on a real server.

The table below is written by hand and checked against /api/openapi.json, so a new
command without a row here fails the suite.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.meeting import ROLES, Review, open_review
from support.server import ServerProcess

MOD = {"moderator"}
RECAP = {"moderator", "scribe"}
ATT = {"moderator", "scribe", "participant"}
ALL = set(ROLES)

# (method, path, valid body or None, roles allowed, path has an id to make unknown)
COMMANDS: list[tuple[str, str, Any, set[str], bool]] = [
    ("GET", "", None, ALL, False),
    ("PATCH", "", {"title": "New title"}, MOD, False),
    ("POST", "/status", {"status": "scheduled"}, MOD, False),
    ("GET", "/invites", None, MOD, False),
    ("POST", "/invites/{id}/revoke", None, MOD, True),
    ("POST", "/invites/rotate", {"role": "observer"}, MOD, False),
    ("GET", "/agenda", None, ALL, False),
    ("PUT", "/agenda", {"template": "launch"}, MOD, False),
    ("POST", "/agenda/phases", {"title": "Extra", "minutes": 5}, MOD, False),
    ("PATCH", "/agenda/phases/{id}", {"minutes": 6}, MOD, True),
    ("DELETE", "/agenda/phases/{id}", None, MOD, True),
    ("PUT", "/agenda/order", {"order": ["opening"]}, MOD, False),
    ("POST", "/phase", {"phase_id": "opening"}, MOD, False),
    ("GET", "/timer", None, ALL, False),
    ("POST", "/timer/start", {}, MOD, False),
    ("POST", "/timer/pause", None, MOD, False),
    ("POST", "/timer/resume", None, MOD, False),
    ("POST", "/timer/extend", {"minutes": 2}, MOD, False),
    ("POST", "/timer/reset", None, MOD, False),
    ("POST", "/elmo", None, ATT, False),
    ("POST", "/hands/raise", None, ATT, False),
    ("POST", "/hands/lower", {}, ATT, False),
    ("GET", "/attendees", None, ALL, False),
    ("PUT", "/attendees/{id}/leader", {"leader": True}, MOD, True),
    ("POST", "/round-robin/start", None, MOD, False),
    ("POST", "/round-robin/next", None, MOD, False),
    ("POST", "/round-robin/skip", None, MOD, False),
    ("POST", "/round-robin/end", None, MOD, False),
    ("POST", "/signoff", None, ATT, False),
    ("GET", "/signoff", None, ATT, False),
    ("GET", "/prompts", None, MOD, False),
    ("POST", "/templates", {"name": "Our incident review"}, MOD, False),
    ("GET", "/templates", None, MOD, False),
    ("POST", "/templates/{id}/apply", None, MOD, True),
    ("DELETE", "/templates/{id}", None, MOD, True),
    ("POST", "/discussion/start", {}, MOD, False),
    ("POST", "/discussion/next", None, MOD, False),
    ("POST", "/discussion/end", None, MOD, False),
    ("POST", "/themes/{id}/comments", {"text": "Good point"}, ATT, True),
    ("DELETE", "/comments/{id}", None, ATT, True),
    ("POST", "/parking-lot", {"text": "Pager vendor contract"}, ATT, False),
    ("GET", "/parking-lot", None, ALL, False),
    ("DELETE", "/parking-lot/{id}", None, MOD, True),
    ("DELETE", "/signoff", None, ATT, False),
    ("POST", "/notes", {"text": "A note"}, ATT, False),
    ("GET", "/notes/mine", None, ATT, False),
    ("PATCH", "/notes/{id}", {"text": "Edited"}, ATT, True),
    ("DELETE", "/notes/{id}", None, ATT, True),
    ("POST", "/reveal", {"section": "other"}, MOD, False),
    ("GET", "/questionnaire", None, ALL, False),
    ("PUT", "/questionnaire", {"answers": [{"prompt": 0, "text": "Fast rollback"}]}, ATT, False),
    ("POST", "/themes", {"title": "Alert routing"}, MOD, False),
    ("PATCH", "/themes/{id}", {"title": "Renamed"}, MOD, True),
    ("DELETE", "/themes/{id}", None, MOD, True),
    ("POST", "/themes/assign", {"theme_id": None, "note_ids": ["n_x"]}, MOD, False),
    ("POST", "/themes/{id}/merge", {"theme_ids": ["t_y"]}, MOD, True),
    ("POST", "/voting/open", {"section": "other"}, MOD, False),
    ("POST", "/voting/close", {"section": "other"}, MOD, False),
    ("POST", "/votes", {"target": "n_x"}, ATT, False),
    ("POST", "/votes/retract", {"target": "n_x"}, ATT, False),
    ("GET", "/votes/mine", None, ATT, False),
    ("GET", "/actions", None, ALL, False),
    ("POST", "/actions", {"what": "Add a runbook"}, RECAP, False),
    ("PATCH", "/actions/{id}", {"owner": "Priya"}, RECAP, True),
    ("DELETE", "/actions/{id}", None, RECAP, True),
    ("GET", "/actions/lint", None, ALL, False),
    ("GET", "/actions/export", None, ALL, False),
    ("POST", "/timeline/import", {"content": "time,text\n2024-05-01T09:00:00Z,x\n"}, ATT, False),
    ("GET", "/recap", None, ALL, False),
    ("GET", "/export", None, ALL, False),
    ("GET", "/audit", None, MOD, False),
    ("POST", "/close", {}, MOD, False),
    ("GET", "/people", None, ATT, False),
    ("POST", "/people", {"name": "Priya"}, RECAP, False),
    ("GET", "/follow-up", None, ALL, False),
    ("POST", "/follow-up/{id}/status", {"status": "in-progress"}, RECAP, True),
    ("GET", "/carried", None, ALL, False),
    ("GET", "/insights", None, ALL, False),
    ("POST", "/carried/{id}/note", {"text": "We agreed to keep it"}, RECAP, True),
]
IDS = [f"{m} {p or '/'}" for m, p, *_ in COMMANDS]
WITH_BODY = [c for c in COMMANDS if c[2] is not None]
WITH_ID = [c for c in COMMANDS if c[4]]


def path_of(template: str) -> str:
    return template.replace("{id}", "unknown-id")


def allowed_person(roles: set[str]) -> str:
    return "moderator" if "moderator" in roles else sorted(roles)[0]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Review, Review]]:
    """One server and two reviews for the whole module: refused calls change nothing."""
    proc = ServerProcess(Path(tmp_path_factory.mktemp("roles")) / "data").start()

    async def make() -> tuple[Review, Review]:
        async with httpx.AsyncClient(base_url=proc.url) as http:
            return await open_review(proc, http), await open_review(proc, http, "Another")

    try:
        yield asyncio.run(make())
    finally:
        proc.stop()


@pytest.fixture
async def review(shared: tuple[Review, Review]) -> AsyncIterator[Review]:
    async with httpx.AsyncClient(base_url=shared[0].server.url) as http:
        yield replace(shared[0], http=http)


@pytest.fixture
async def other(shared: tuple[Review, Review], review: Review) -> Review:
    return replace(shared[1], http=review.http)


async def test_table_covers_every_command(review: Review) -> None:
    schema = (await review.http.get("/api/openapi.json")).json()
    assert schema["openapi"].startswith("3.1")
    served = {
        (method.upper(), path.removeprefix("/api/reviews/{review_id}"))
        for path, operations in schema["paths"].items()
        if path.startswith("/api/reviews/{review_id}")
        for method in operations
    }
    table = {(m, p.replace("{id}", "")) for m, p, *_ in COMMANDS}
    normalised = {(m, _strip_params(p)) for m, p in served}
    assert normalised == table
    assert "NewNote" in schema["components"]["schemas"]


def _strip_params(path: str) -> str:
    return "/".join("" if part.startswith("{") else part for part in path.split("/"))


@pytest.mark.parametrize(("method", "path", "body", "roles", "has_id"), COMMANDS, ids=IDS)
async def test_wrong_roles_are_refused(
    review: Review, method: str, path: str, body: Any, roles: set[str], has_id: bool
) -> None:
    for role in sorted(ALL - roles):
        response = await review.call(role, method, path_of(path), body)
        assert response.status_code == 403, (role, response.text)
        assert response.json()["error"] == "forbidden"
    response = await review.call(None, method, path_of(path), body)
    assert response.status_code == 401
    assert set(response.json()) >= {"error", "detail"}


@pytest.mark.parametrize(("method", "path", "body", "roles", "has_id"), COMMANDS, ids=IDS)
async def test_unknown_review_and_other_sessions(
    review: Review, other: Review, method: str, path: str, body: Any, roles: set[str], has_id: bool
) -> None:
    person = allowed_person(roles)
    response = await review.http.request(
        method,
        f"/api/reviews/r_unknown{path_of(path)}",
        json=body,
        headers=review.people[person].headers,
    )
    assert response.status_code == 404
    response = await other.call(review.people[person], method, path_of(path), body)
    assert response.status_code == 403
    assert response.json()["error"] == "other-review"


@pytest.mark.parametrize(("method", "path", "body", "roles", "has_id"), WITH_BODY,
                         ids=[f"{m} {p or '/'}" for m, p, *_ in WITH_BODY])  # fmt: skip
async def test_bad_json_and_unknown_fields(
    review: Review, method: str, path: str, body: Any, roles: set[str], has_id: bool
) -> None:
    person = allowed_person(roles)
    response = await review.call(person, method, path_of(path), raw=b'{"oops": ')
    assert response.status_code == 400
    assert response.json()["error"] == "bad-json"
    response = await review.call(person, method, path_of(path), {**body, "surprise": 1})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "surprise"


@pytest.mark.parametrize(("method", "path", "body", "roles", "has_id"), WITH_ID,
                         ids=[f"{m} {p}" for m, p, *_ in WITH_ID])  # fmt: skip
async def test_unknown_ids(
    review: Review, method: str, path: str, body: Any, roles: set[str], has_id: bool
) -> None:
    response = await review.call(allowed_person(roles), method, path_of(path), body)
    assert response.status_code == 404, response.text
    assert set(response.json()) >= {"error", "detail"}


async def test_cookie_requests_need_our_origin(review: Review) -> None:
    """A state change carried by the cookie alone must come from our own pages."""
    token = review.people["moderator"].token
    url = f"{review.base}/elmo"
    cookies = {"debrief_session": token}
    http = httpx.AsyncClient(base_url=review.server.url, cookies=cookies)
    async with http:
        evil = await http.post(url, headers={"origin": "https://evil.example"})
        assert evil.status_code == 403
        assert evil.json()["error"] == "cross-origin"
        bare = await http.post(url)
        assert bare.status_code == 403
        ours = await http.post(url, headers={"origin": review.server.url})
        assert ours.status_code == 200
        read = await http.get(f"{review.base}/timer")
        assert read.status_code == 200


async def test_domain_validation_names_the_field(review: Review) -> None:
    bad = await review.call("moderator", "PATCH", "", {"scope": {"window_start": "yesterday"}})
    assert bad.status_code == 422
    assert bad.json()["field"] == "scope.window_start"
    bad = await review.call("moderator", "POST", "/agenda/phases", {"title": "", "minutes": 5})
    assert bad.status_code == 422
    bad = await review.call("moderator", "POST", "/status", {"status": "closed"})
    assert bad.status_code == 422
    bad = await review.call("moderator", "POST", "/timer/pause")
    assert bad.status_code == 409
    assert bad.json()["error"] == "timer-not-running"
    bad = await review.call("moderator", "GET", "/export?format=docx")
    assert bad.status_code == 422
    bad = await review.call("moderator", "POST", "/close", {})
    assert bad.status_code == 409  # a draft cannot be closed


async def test_public_endpoints(review: Review) -> None:
    templates = (await review.http.get("/api/agenda/templates")).json()["templates"]
    assert [t["name"] for t in templates] == [
        "incident",
        "project-phase",
        "launch",
        "recurring-pattern",
    ]
    assert templates[0]["minutes"] == 75
    assert any("standardise" in p["title"] for p in templates[2]["phases"])
    lint = await review.http.post(
        "/api/lint/actions",
        json={"actions": [{"id": "a", "what": "Be more careful", "owner": "ops team"}]},
    )
    codes = {p["code"] for p in lint.json()["actions"]["a"]}
    assert lint.json()["clean"] is False
    assert codes == {"vague-wording", "shared-owner", "missing-due", "missing-verification",
                     "missing-kind"}  # fmt: skip
    assert (await review.http.post("/api/lint/actions", json={"nope": 1})).status_code == 422
