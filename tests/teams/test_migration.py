"""Data written by the release before teams opens in this version, on SQLite and on Redis.

tests/fixtures/previous-release/ was written by the previous release's own server
(scripts/make-previous-release-fixture; expected.json says what it holds): a closed
review with three actions whose owners are free text (two of them one person spelled
differently), a live review and a draft. Here today's server starts on that data:
twice stopped (each time the storage is read directly: the migration's result, and
that a second start adds nothing), then a third time to be checked through the public
API and Yjs clients like any user would.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from pycrdt import Map, Text

from debrief.app import make_storage
from debrief.meeting.service import REVIEW
from debrief.settings import Settings
from debrief.storage.base import Storage
from debrief.storage.schema import schema_version
from debrief.teams.keys import (
    ACTION_STATE,
    ACTION_STATUSES,
    DEFAULT_TEAM_ID,
    PERSON,
    PERSON_NAME,
    TEAM,
    TEAM_LINK,
    action_gid,
    people_index,
    person_index,
    reviews_index,
    status_index,
    team_of,
)
from support.scaleout import SHARED_REDIS, drop_prefix
from support.server import ServerProcess
from support.yclient import YClient, synced_client

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "previous-release"
EXPECTED: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text())
SCHEMA_VERSION = 4  # the version this release migrates to
KINDS = ("closed", "live", "draft")
OLD_HOST = "https://debrief.example.org"  # invite links were handed out with some host


def folded(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass
class Migrated:
    backend: str
    server: ServerProcess
    expected: dict[str, Any]  # expected.json's part for this backend
    after_first: dict[str, Any]  # storage facts after the first start
    after_second: dict[str, Any]  # ... and after the second
    admin_link: str  # the default team's admin link code (read from storage)

    def review(self, kind: str) -> dict[str, Any]:
        found: dict[str, Any] = self.expected[kind]
        return found


# --- setting up the old data -------------------------------------------------------


def restore_redis(prefix: str) -> None:
    """Every key of redis.jsonl, under ``prefix``, as DUMP wrote it."""
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        for line in (FIXTURE / "redis.jsonl").read_text().splitlines():
            row = json.loads(line)
            ttl = row["pttl"] if row["pttl"] > 0 else 0
            try:
                client.restore(prefix + row["key"], ttl, base64.b64decode(row["dump"]))
            except redis.ResponseError as exc:  # DUMP payloads are tied to Redis's version
                version = client.info("server")["redis_version"]
                raise AssertionError(
                    f"cannot restore {row['key']} on Redis {version}: {exc}; the fixture was "
                    "dumped by Debian's Redis (scripts/make-previous-release-fixture)"
                ) from exc
    finally:
        client.close()


def settings_for(backend: str, data_dir: Path, prefix: str) -> Settings:
    settings = Settings(data_dir=data_dir)
    if backend == "redis":
        settings.redis_url = SHARED_REDIS
        settings.redis_prefix = prefix
    return settings


async def storage_facts(storage: Storage, expected: dict[str, Any]) -> dict[str, Any]:
    """What the migration left in storage, as plain data two runs can be compared by."""
    await storage.open()
    try:
        closed_id = expected["closed"]["id"]
        states = {
            s["gid"]: {k: s.get(k) for k in ("status", "what", "owner", "owner_id", "due",
                                             "verify", "team_id", "review_id", "history")}
            for s in await storage.list_records(ACTION_STATE, closed_id)
        }  # fmt: skip
        people = {pid: data async for pid, data in storage.all_records(PERSON)}
        return {
            "schema": await schema_version(storage),
            "teams": sorted([tid async for tid, _ in storage.all_records(TEAM)]),
            "review_teams": {rid: team_of(data) async for rid, data in storage.all_records(REVIEW)},
            "reviews_index": sorted(
                (e.member, e.data.get("title"), e.data.get("status"))
                for e in await storage.index_range(reviews_index(DEFAULT_TEAM_ID))
            ),
            "action_states": states,
            "people": {pid: (p.get("team_id"), p.get("name")) for pid, p in people.items()},
            "person_names": sorted([key async for key, _ in storage.all_records(PERSON_NAME)]),
            "people_index": sorted(
                e.member for e in await storage.index_range(people_index(DEFAULT_TEAM_ID))
            ),
            "status_index": {
                status: sorted(
                    e.member
                    for e in await storage.index_range(status_index(DEFAULT_TEAM_ID, status))
                )
                for status in ACTION_STATUSES
            },
            "person_index": {
                pid: sorted(e.member for e in await storage.index_range(person_index(pid)))
                for pid in people
            },
            "team_links": sorted(
                (link["role"], link["code"], bool(link.get("revoked")))
                for link in await storage.list_records(TEAM_LINK, DEFAULT_TEAM_ID)
            ),
        }
    finally:
        await storage.close()


def start_and_stop(server: ServerProcess) -> None:
    server.start()
    code = server.stop()
    assert code == 0, server.log_path.read_text()[-3000:]


@pytest.fixture(scope="module", params=["sqlite", "redis"])
def migrated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Migrated]:
    backend: str = request.param
    expected: dict[str, Any] = EXPECTED["backends"][backend]
    data_dir = tmp_path_factory.mktemp(f"previous-{backend}") / "data"
    data_dir.mkdir()
    # The data directory as the previous release left it (its secret signs the sessions).
    shutil.copy2(FIXTURE / "sqlite" / "secret.key", data_dir / "secret.key")
    prefix = f"debrief-test-{secrets.token_hex(4)}:"
    # Sessions signed when the fixture was made must still be in date when the test runs
    # (the default lifetime is 30 days): the check is that the upgrade keeps them valid.
    env: dict[str, str] = {"DEBRIEF_SESSION_TTL": str(100 * 365 * 24 * 3600)}
    args: list[str] = []
    if backend == "sqlite":
        shutil.copy2(FIXTURE / "sqlite" / "debrief.sqlite3", data_dir / "debrief.sqlite3")
    else:
        restore_redis(prefix)
        env["DEBRIEF_REDIS_PREFIX"] = prefix
        args = ["--redis", SHARED_REDIS]
    settings = settings_for(backend, data_dir, prefix)

    def facts() -> dict[str, Any]:
        return asyncio.run(storage_facts(make_storage(settings), expected))

    server = ServerProcess(data_dir, env=env, args=args)
    try:
        start_and_stop(server)  # the first start migrates
        first = facts()
        start_and_stop(server)
        second = facts()
        admin = [code for role, code, gone in first["team_links"] if role == "admin" and not gone]
        server.start()
        try:
            yield Migrated(backend, server, expected, first, second, admin[0] if admin else "")
        finally:
            server.stop()
    finally:
        if backend == "redis":
            drop_prefix(SHARED_REDIS, prefix)


# --- through the public API, as users would -----------------------------------------


async def join(server: ServerProcess, invite: str, name: str = "") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.post("/api/join", json={"invite": invite, "name": name})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_every_review_keeps_its_title_and_status(migrated: Migrated) -> None:
    async with httpx.AsyncClient(base_url=migrated.server.url) as http:
        for kind in KINDS:
            old = migrated.review(kind)
            session = await join(migrated.server, old["invites"]["moderator"], "Maya again")
            answer = await http.get(f"/api/reviews/{old['id']}", headers=bearer(session["token"]))
            assert answer.status_code == 200, answer.text
            review = answer.json()
            assert (review["title"], review["status"]) == (old["title"], kind)
            assert review["scope"]["event"] == old["scope_event"]


async def test_old_invite_links_still_join_with_their_role(migrated: Migrated) -> None:
    for kind in KINDS:
        old = migrated.review(kind)
        for role, code in old["invites"].items():
            joined = await join(migrated.server, f"{OLD_HOST}/j/{code}", f"New {role}")
            assert (joined["review_id"], joined["role"]) == (old["id"], role)


async def test_sessions_of_the_previous_release_stay_signed_in(migrated: Migrated) -> None:
    async with httpx.AsyncClient(base_url=migrated.server.url) as http:
        for kind in KINDS:
            old = migrated.review(kind)
            for role, session in old["sessions"].items():
                answer = await http.get(
                    f"/api/reviews/{old['id']}", headers=bearer(session["token"])
                )
                assert answer.status_code == 200, (kind, role, answer.text)
                assert answer.json()["you"]["role"] == role


def doc_notes(room: YClient) -> list[dict[str, Any]]:
    themes = room.doc.get("themes", type=Map).to_py() or {}
    notes = (room.doc.get("notes", type=Map).to_py() or {}).values()
    found = [
        {
            "text": n["text"],
            "kind": n["kind"],
            "theme": themes[n["theme_id"]]["title"] if n.get("theme_id") else None,
        }
        for n in notes
    ]
    return sorted(found, key=lambda n: (n["kind"], n["text"]))


def doc_themes(room: YClient) -> list[dict[str, Any]]:
    themes = room.doc.get("themes", type=Map).to_py() or {}
    votes = room.doc.get("votes", type=Map).to_py() or {}
    found = [
        {"title": t["title"], "category": t["category"], "votes": votes.get(key)}
        for key, t in themes.items()
    ]
    return sorted(found, key=lambda t: t["title"])


def doc_events(timeline: YClient) -> list[dict[str, Any]]:
    events = (timeline.doc.get("events", type=Map).to_py() or {}).items()
    found = [
        {"id": key, "time": e["time"], "text": e["text"], "markers": e.get("markers", [])}
        for key, e in events
    ]
    return sorted(found, key=lambda e: (e["time"], e["id"]))


def doc_actions(recap: YClient) -> list[dict[str, Any]]:
    actions = (recap.doc.get("actions", type=Map).to_py() or {}).items()
    fields = ("what", "owner", "due", "verify", "kind")
    found = [{"id": key, **{f: a.get(f, "") for f in fields}} for key, a in actions]
    return sorted(found, key=lambda a: a["what"])


async def test_each_doc_syncs_with_the_same_content(migrated: Migrated) -> None:
    server = migrated.server
    for kind in KINDS:
        old = migrated.review(kind)
        token = (await join(server, old["invites"]["observer"], "Reader"))["token"]
        room = await synced_client(server.ws_url, old["id"], "room", token)
        timeline = await synced_client(server.ws_url, old["id"], "timeline", token)
        recap = await synced_client(server.ws_url, old["id"], "recap", token)
        try:
            review = room.doc.get("review", type=Map).to_py() or {}
            assert (review["title"], review["status"]) == (old["title"], kind)
            assert doc_notes(room) == old["room"]["notes"], kind
            assert doc_themes(room) == old["room"]["themes"], kind
            assert doc_events(timeline) == old["timeline"], kind
            assert str(recap.doc.get("text", type=Text)) == old["recap"]["text"]
            assert str(recap.doc.get("followups", type=Text)) == old["recap"]["followups"]
            assert doc_actions(recap) == old["recap"]["actions"], kind
        finally:
            for client in (room, timeline, recap):
                await client.close()


async def test_private_notes_are_still_their_authors(migrated: Migrated) -> None:
    """A note not yet revealed lives outside the docs; its author still finds it."""
    async with httpx.AsyncClient(base_url=migrated.server.url) as http:
        for kind in ("closed", "live"):
            old = migrated.review(kind)
            token = old["sessions"]["participant"]["token"]
            mine = await http.get(f"/api/reviews/{old['id']}/notes/mine", headers=bearer(token))
            assert mine.status_code == 200, mine.text
            found = sorted(
                ({"text": n["text"], "kind": n["kind"]} for n in mine.json()["notes"]),
                key=lambda n: (n["kind"], n["text"]),
            )
            assert found == old["participant_notes"]


async def test_the_frozen_recap_and_its_exports_still_render(migrated: Migrated) -> None:
    old = migrated.review("closed")
    frozen = old["frozen"]
    token = (await join(migrated.server, old["invites"]["observer"], "Auditor"))["token"]
    base = f"/api/reviews/{old['id']}"
    fields = ("what", "owner", "due", "verify")
    async with httpx.AsyncClient(base_url=migrated.server.url, headers=bearer(token)) as http:
        recap = (await http.get(base + "/recap")).json()
        assert recap["version"] == frozen["version"]
        assert recap["scribe_text"] == frozen["scribe_text"]
        assert [{f: a[f] for f in fields} for a in recap["actions"]] == [
            {f: a[f] for f in fields} for a in frozen["actions"]
        ]
        markdown = await http.get(base + "/export?format=markdown")
        assert markdown.status_code == 200, markdown.text
        text = markdown.text
        assert text.startswith(f"# {old['title']}\n") and frozen["version"]["hash"] in text
        assert frozen["close_reason"] in text
        for line in frozen["markdown_lines"][1:]:  # "1. <what> (Owner: ...; Due: ...; ..."
            what, _, rest = line.partition(" (Owner: ")
            assert what in text and rest.split(";")[0] in text, line
        html = await http.get(base + "/export?format=html")
        assert html.status_code == 200 and frozen["version"]["hash"] in html.text
        assert all(a["what"] in html.text for a in frozen["actions"])
        data = (await http.get(base + "/export?format=json")).json()
        assert data["version"] == frozen["version"]
        assert [a["what"] for a in data["actions"]] == [a["what"] for a in frozen["actions"]]


async def test_every_review_is_in_the_default_team(migrated: Migrated) -> None:
    """Through the team API, with the default team's admin link (read from storage: the
    link the migration made; how an operator gets it is the CLI's business)."""
    assert migrated.admin_link, "the migration made no admin link for the default team"
    async with httpx.AsyncClient(base_url=migrated.server.url) as http:
        joined = await http.post(
            "/api/teams/join", json={"link": migrated.admin_link, "name": "Operator"}
        )
        assert joined.status_code == 200, joined.text
        assert (joined.json()["team_id"], joined.json()["role"]) == (DEFAULT_TEAM_ID, "admin")
        http.headers.update(bearer(joined.json()["token"]))
        listed = await http.get(f"/api/teams/{DEFAULT_TEAM_ID}/reviews")
        assert listed.status_code == 200, listed.text
        found = {r["id"]: (r["title"], r["status"]) for r in listed.json()["reviews"]}
        assert found == {migrated.review(k)["id"]: (migrated.review(k)["title"], k) for k in KINDS}
        assert listed.json()["total"] == 3
        team = (await http.get(f"/api/teams/{DEFAULT_TEAM_ID}")).json()
        reviews = team["counts"]["reviews"]
        assert (reviews["draft"], reviews["live"], reviews["closed"]) == (1, 1, 1)
        assert team["counts"]["actions"]["open"] == 3
        people = (await http.get(f"/api/teams/{DEFAULT_TEAM_ID}/people")).json()["people"]
        assert sorted(folded(p["name"]) for p in people) == ["lee wong", "priya shah"]


async def test_the_closed_reviews_actions_are_open_and_owned_by_people(
    migrated: Migrated,
) -> None:
    old = migrated.review("closed")
    token = (await join(migrated.server, old["invites"]["observer"], "Checker"))["token"]
    async with httpx.AsyncClient(base_url=migrated.server.url) as http:
        answer = await http.get(f"/api/reviews/{old['id']}/follow-up", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        states = {a["gid"]: a for a in answer.json()["actions"]}
    wanted = {action_gid(old["id"], a["id"]): a for a in old["recap"]["actions"]}
    assert set(states) == set(wanted)
    for gid, action in wanted.items():
        state = states[gid]
        assert state["status"] == "open"
        got = {k: state[k] for k in ("what", "owner", "due", "verify")}
        assert got == {k: action[k] for k in ("what", "owner", "due", "verify")}
    owners: dict[str, set[str]] = {}
    for state in states.values():
        assert state["owner_id"], state
        owners.setdefault(folded(state["owner"]), set()).add(state["owner_id"])
    # "Priya Shah" and "priya  SHAH" are one person; Lee Wong is another.
    assert set(owners) == {"priya shah", "lee wong"}
    assert all(len(ids) == 1 for ids in owners.values()), owners
    assert owners["priya shah"] != owners["lee wong"]


# --- in storage, after the server stopped -------------------------------------------


def test_storage_is_at_schema_2_with_everything_in_the_default_team(migrated: Migrated) -> None:
    facts, old = migrated.after_first, migrated.expected
    assert facts["schema"] == SCHEMA_VERSION
    assert DEFAULT_TEAM_ID in facts["teams"]
    ids = {old[k]["id"] for k in KINDS}
    assert facts["review_teams"] == dict.fromkeys(ids, DEFAULT_TEAM_ID)
    assert {member for member, _, _ in facts["reviews_index"]} == ids
    closed = old["closed"]
    gids = {action_gid(closed["id"], a["id"]) for a in closed["recap"]["actions"]}
    assert set(facts["action_states"]) == gids
    assert set(facts["status_index"]["open"]) == gids
    assert all(not facts["status_index"][s] for s in ACTION_STATUSES if s != "open")
    by_owner: dict[str, set[str]] = {}
    for state in facts["action_states"].values():
        assert (state["status"], state["team_id"]) == ("open", DEFAULT_TEAM_ID)
        by_owner.setdefault(folded(state["owner"]), set()).add(state["owner_id"])
    assert {k: len(v) for k, v in by_owner.items()} == {"priya shah": 1, "lee wong": 1}
    priya, lee = by_owner["priya shah"].pop(), by_owner["lee wong"].pop()
    assert {folded(name) for _, name in facts["people"].values()} == {"priya shah", "lee wong"}
    assert set(facts["people_index"]) == {priya, lee}
    assert len(facts["person_index"][priya]) == 2 and len(facts["person_index"][lee]) == 1


def test_a_second_start_adds_nothing(migrated: Migrated) -> None:
    assert migrated.after_second == migrated.after_first
    assert len(migrated.after_first["people"]) == 2


# --- last: this one changes the live review (the checks above read it as it was) -------


async def test_the_live_review_goes_on_where_it_stopped(migrated: Migrated) -> None:
    """Sessions of the previous release keep working in the live meeting: the moderator
    reveals a note written before the upgrade, the scribe edits the shared timeline."""
    server, old = migrated.server, migrated.review("live")
    sessions = old["sessions"]
    async with httpx.AsyncClient(base_url=server.url) as http:
        base = f"/api/reviews/{old['id']}"
        moderator = bearer(sessions["moderator"]["token"])
        revealed = await http.post(
            base + "/reveal", json={"section": "worked-well"}, headers=moderator
        )
        assert revealed.status_code == 200, revealed.text
    room = await synced_client(server.ws_url, old["id"], "room", sessions["observer"]["token"])
    scribe = await synced_client(server.ws_url, old["id"], "timeline", sessions["scribe"]["token"])
    reader = await synced_client(
        server.ws_url, old["id"], "timeline", sessions["observer"]["token"]
    )
    try:
        await room.wait_for(lambda: {"text": "Fast cap", "kind": "worked-well", "theme": None}
                            in doc_notes(room))  # fmt: skip
        event = scribe.doc.get("events", type=Map)["ev_typed_by_scribe"]
        assert isinstance(event, Map)
        event["text"] = "Error rate back to normal at 14:45"
        await reader.wait_for(
            lambda: any(e["text"].endswith("at 14:45") for e in doc_events(reader))
        )
        assert scribe.denied == []
    finally:
        for client in (room, scribe, reader):
            await client.close()
