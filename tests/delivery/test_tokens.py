"""A team's API tokens against a real server: made and revoked by the team admin, shown
once, stored hashed, scoped (read cannot change anything, write cannot administer), and
refused the moment they are revoked."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import httpx

from support.server import ServerProcess
from support.teams import Team, bearer, new_team, team_review


async def make_token(team: Team, name: str, scope: str) -> str:
    made = await team.call("admin", "POST", "/tokens", {"name": name, "scope": scope})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    token: str = made.json()["token"]
    assert token.startswith("dbt_") and made.json()["scope"] == scope
    return token


async def as_token(
    http: httpx.AsyncClient, token: str, method: str, path: str, body: object = None
) -> httpx.Response:
    return await http.request(method, path, json=body, headers=bearer(token))


async def closed_action(server: ServerProcess, team: Team) -> str:
    """The gid of an action of a review that closed."""
    review = await team_review(server, team, "Queue backlog")
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    due = (datetime.now(UTC).date() + timedelta(days=9)).isoformat()
    added = await review.ok("scribe", "POST", "/actions", {
        "what": "Alert on queue depth", "owner": "Omar K", "due": due,
        "verify": "A drill pages the on-call", "kind": "monitoring"})  # fmt: skip
    closed = await review.call("moderator", "POST", "/close", {})
    assert closed.status_code == 200, closed.text
    return f"{review.id}.{added['id']}"


async def test_token_life_cycle_and_storage(
    shared_server: ServerProcess, http: httpx.AsyncClient
) -> None:
    team = await new_team(http)
    token = await make_token(team, "Incident bot", "read")
    base = team.base

    listed = (await team.ok("admin", "GET", "/tokens"))["tokens"]
    assert [t["name"] for t in listed] == ["Incident bot"]
    assert "token" not in listed[0] and "hash" not in listed[0]  # shown once, never again
    assert listed[0]["created_by"] == "Ada Admin"

    seen = await as_token(http, token, "GET", base)
    assert seen.status_code == 200, seen.text
    assert seen.json()["you"] == {"role": "member", "name": "API token Incident bot"}

    # only a hash of the secret is kept
    secret = token.split("_", 2)[2]
    stored = b"".join(
        p.read_bytes() for p in (shared_server.data_dir).glob("debrief.sqlite3*") if p.is_file()
    )
    assert secret.encode() not in stored
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in stored

    # wrong secret, malformed, another team's token
    token_id = listed[0]["id"]
    for forged in (f"dbt_{token_id}_{'x' * 43}", "dbt_nonsense", f"dbt_{token_id}_"):
        refused = await as_token(http, forged, "GET", base)
        assert refused.status_code == 401, forged
    other = await new_team(http, "Search")
    elsewhere = await as_token(http, token, "GET", other.base)
    assert elsewhere.status_code == 403 and elsewhere.json()["error"] == "other-team"

    # members cannot make or see tokens; revoking works at once
    assert (await team.call("member", "POST", "/tokens", {"name": "x", "scope": "read"})
            ).status_code == 403  # fmt: skip
    assert (await team.call("member", "GET", "/tokens")).status_code == 403
    bad = await team.call("admin", "POST", "/tokens", {"name": "x", "scope": "admin"})
    assert bad.status_code == 422
    revoked = await team.call("admin", "DELETE", f"/tokens/{token_id}")
    assert revoked.status_code == 200 and revoked.json() == {"revoked": token_id}
    after = await as_token(http, token, "GET", base)
    assert after.status_code == 401 and after.json()["error"] == "unauthenticated"
    again = await team.call("admin", "DELETE", f"/tokens/{token_id}")
    assert again.status_code == 404
    assert (await team.ok("admin", "GET", "/tokens"))["tokens"] == []


async def test_scopes(shared_server: ServerProcess, http: httpx.AsyncClient) -> None:
    team = await new_team(http)
    gid = await closed_action(shared_server, team)
    read = await make_token(team, "Dashboard", "read")
    write = await make_token(team, "Incident tool", "write")
    base = team.base

    # a read token reads the team's member routes ...
    for path in ("", "/reviews", "/actions?view=all", "/people",
                 "/actions/export?format=github"):  # fmt: skip
        got = await as_token(http, read, "GET", base + path)
        assert got.status_code == 200, (path, got.text)
    # ... and cannot change anything
    refused = await as_token(http, read, "POST", f"{base}/reviews", {"title": "From a script"})
    assert refused.status_code == 403 and refused.json()["error"] == "token-scope"
    refused = await as_token(http, read, "POST", f"{base}/actions/{gid}/status",
                             {"status": "in-progress"})  # fmt: skip
    assert refused.status_code == 403 and refused.json()["error"] == "token-scope"

    # a write token creates reviews and posts status, in the token's name
    created = await as_token(http, write, "POST", f"{base}/reviews", {"title": "From a script"})
    assert created.status_code == 201, created.text
    assert set(created.json()["invites"]) == {"moderator", "scribe", "participant", "observer"}
    moved = await as_token(http, write, "POST", f"{base}/actions/{gid}/status",
                           {"status": "in-progress", "note": "ticket OPS-12"})  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert moved.json()["history"][-1]["by"] == "API token Incident tool"
    assert moved.json()["history"][-1]["role"] == "api-token"
    # ... and marks it done with its evidence, but verifying takes a person
    evidence = {"url": "https://ci.example/run/7"}
    done = await as_token(http, write, "POST", f"{base}/actions/{gid}/status",
                          {"status": "done", "evidence": evidence})  # fmt: skip
    assert done.status_code == 200, done.text
    vouched = await as_token(http, write, "POST", f"{base}/actions/{gid}/status",
                             {"status": "verified"})  # fmt: skip
    assert vouched.status_code == 403 and vouched.json()["error"] == "token-cannot-verify"

    # no token administers: links, tokens, people's links, feeds, deleting reviews
    review_id = created.json()["id"]
    for method, path, body in (
        ("GET", "/links", None),
        ("POST", "/links/rotate", {"role": "member"}),
        ("GET", "/tokens", None),
        ("POST", "/tokens", {"name": "more", "scope": "write"}),
        ("POST", "/feed", None),
        ("DELETE", f"/reviews/{review_id}", {"confirm": "From a script"}),
    ):
        for token in (read, write):
            got = await as_token(http, token, method, base + path, body)
            assert got.status_code == 403, (method, path, got.text)
            assert got.json()["error"] == "token-scope"
    # a token is no review session
    on_review = await as_token(http, write, "GET", f"/api/reviews/{review_id}/recap")
    assert on_review.status_code == 401
