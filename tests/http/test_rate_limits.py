"""Per-IP and per-session rates, per-review caps: each refusal a clear 429 or 409.

Each test starts a server with small limits of its own (settings.py, DEBRIEF_*): the
suite's servers lift the per-IP ones, since every test client is 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from debrief.http.ratelimit import client_ip
from support.api import create_review, join
from support.server import ServerProcess, wait_until

Start = Callable[..., ServerProcess]


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Start]:
    started: list[ServerProcess] = []

    def run(**env: str) -> ServerProcess:
        proc = ServerProcess(tmp_path / f"s{len(started)}", env=env).start()
        started.append(proc)
        return proc

    yield run
    for proc in started:
        proc.stop()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def assert_429(response: httpx.Response, error: str, window_s: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == error
    assert response.json()["detail"]
    assert 1 <= int(response.headers["retry-after"]) <= window_s


async def post_join(
    http: httpx.AsyncClient, server: ServerProcess, invite: str, name: str = ""
) -> httpx.Response:
    return await http.post(f"{server.url}/api/join", json={"invite": invite, "name": name})


async def test_joins_per_ip(start: Start, http: httpx.AsyncClient) -> None:
    server = start(DEBRIEF_RATE_JOINS="5/minute")
    review = await create_review(server.url)
    invite = review["invites"]["participant"]
    for _ in range(5):
        assert (await post_join(http, server, invite)).status_code == 200
    assert_429(await post_join(http, server, invite), "too-many-joins", 60)


async def test_invite_guessing_locks_the_guesser_out(start: Start, http: httpx.AsyncClient) -> None:
    window_s = 3
    server = start(DEBRIEF_RATE_BAD_INVITES=f"5 per {window_s} seconds")
    good = (await create_review(server.url))["invites"]["participant"]
    for guess in range(5):
        refused = await post_join(http, server, f"guess-{guess}")
        assert refused.status_code == 403 and refused.json()["error"] == "invite-invalid"
    # Past the limit: guesses and even a real invite are refused from this IP ...
    assert_429(await post_join(http, server, "guess-5"), "too-many-bad-invites", window_s)
    assert_429(await post_join(http, server, good), "too-many-bad-invites", window_s)

    # ... until the window has passed (polled, then a real invite works again).
    async def good_invite_works() -> bool:
        return (await post_join(http, server, good)).status_code == 200

    await wait_until(good_invite_works, timeout=window_s + 10)


async def test_personal_link_guessing_locks_the_guesser_out(
    start: Start, http: httpx.AsyncClient
) -> None:
    server = start(DEBRIEF_RATE_BAD_INVITES="3 per 60 seconds")
    for guess in range(3):
        missed = await http.get(f"{server.url}/api/p/guess-{guess}")
        assert missed.status_code == 404 and missed.json()["error"] == "link-invalid"
    assert_429(await http.get(f"{server.url}/api/p/guess-3"), "too-many-bad-invites", 60)
    # the same bucket as invites: joins from this address wait too
    good = (await create_review(server.url))["invites"]["participant"]
    assert_429(await post_join(http, server, good), "too-many-bad-invites", 60)


async def test_attendee_and_observer_caps(start: Start, http: httpx.AsyncClient) -> None:
    server = start(DEBRIEF_MAX_ATTENDEES="3", DEBRIEF_MAX_OBSERVERS="2")
    review = await create_review(server.url)
    invites = review["invites"]
    # Ten at once through one shared link: the cap holds exactly (counted under a lock).
    answers = await asyncio.gather(
        *(post_join(http, server, invites["participant"], f"p{i}") for i in range(10))
    )
    assert sorted(a.status_code for a in answers) == [200] * 3 + [409] * 7
    full = next(a for a in answers if a.status_code == 409).json()
    assert full["error"] == "review-full" and "3 attendees" in full["detail"]
    assert (await post_join(http, server, invites["moderator"])).status_code == 409
    # Observers have their own cap.
    for _ in range(2):
        assert (await post_join(http, server, invites["observer"])).status_code == 200
    assert (await post_join(http, server, invites["observer"])).status_code == 409
    # Attendees listed stay what was accepted; another review is not affected.
    member = next(a for a in answers if a.status_code == 200).json()
    headers = {"Authorization": f"Bearer {member['token']}"}
    listed = await http.get(f"{server.url}/api/reviews/{review['id']}/attendees", headers=headers)
    assert len(listed.json()["attendees"]) == 3
    other = await create_review(server.url)
    assert (await post_join(http, server, other["invites"]["participant"])).status_code == 200


async def test_a_revoked_link_frees_its_seats(start: Start, http: httpx.AsyncClient) -> None:
    server = start(DEBRIEF_MAX_ATTENDEES="2")
    review = await create_review(server.url)
    invites = review["invites"]
    moderator = (await post_join(http, server, invites["moderator"])).json()
    assert (await post_join(http, server, invites["participant"])).status_code == 200
    assert (await post_join(http, server, invites["participant"])).status_code == 409
    headers = {"Authorization": f"Bearer {moderator['token']}"}
    rotated = await http.post(
        f"{server.url}/api/reviews/{review['id']}/invites/rotate",
        json={"role": "participant"},
        headers=headers,
    )
    assert rotated.status_code == 200, rotated.text
    fresh = rotated.json()["invite"]["url"]
    assert (await post_join(http, server, fresh)).status_code == 200


async def test_notes_cap_holds_across_rejoins(start: Start, http: httpx.AsyncClient) -> None:
    server = start(DEBRIEF_MAX_REVIEW_NOTES="20")
    review = await create_review(server.url)
    base = f"{server.url}/api/reviews/{review['id']}"
    tokens = [
        (await join(server.url, review["invites"]["participant"]))["token"] for _ in range(30)
    ]

    async def write(token: str, text: str) -> int:
        headers = {"Authorization": f"Bearer {token}"}
        note = {"kind": "worked-well", "text": text}
        response = await http.post(f"{base}/notes", json=note, headers=headers)
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:
            assert response.json()["error"] == "review-notes-full"
        return response.status_code

    statuses = [
        await write(token, f"note {i}.{n}") for n in range(2) for i, token in enumerate(tokens)
    ]
    assert statuses.count(201) == 20 and statuses.count(409) == 40
    # The questionnaire's answers are notes too: no way around the cap there either.
    headers = {"Authorization": f"Bearer {tokens[0]}"}
    answer = {"answers": [{"prompt": 0, "text": "one more"}]}
    refused = await http.put(f"{base}/questionnaire", json=answer, headers=headers)
    assert refused.status_code == 409 and refused.json()["error"] == "review-notes-full"
    mine = [
        len((await http.get(f"{base}/notes/mine", headers={"Authorization": f"Bearer {t}"}))
            .json()["notes"])
        for t in tokens
    ]  # fmt: skip
    assert sum(mine) == 20


async def test_commands_per_session(start: Start, http: httpx.AsyncClient) -> None:
    server = start(DEBRIEF_RATE_SESSION="5/minute")
    review = await create_review(server.url)
    ana = await join(server.url, review["invites"]["participant"], "Ana")
    ben = await join(server.url, review["invites"]["participant"], "Ben")
    url = f"{server.url}/api/reviews/{review['id']}/timer"

    async def get(who: dict[str, Any]) -> httpx.Response:
        return await http.get(url, headers={"Authorization": f"Bearer {who['token']}"})

    for _ in range(5):
        assert (await get(ana)).status_code == 200
    assert_429(await get(ana), "too-many-requests", 60)
    assert (await get(ben)).status_code == 200  # one session's flood is its own


async def test_commands_per_ip(start: Start, http: httpx.AsyncClient) -> None:
    server = start(DEBRIEF_RATE_IP="8/minute")
    review = await create_review(server.url)
    people = [await join(server.url, review["invites"]["participant"]) for _ in range(4)]
    url = f"{server.url}/api/reviews/{review['id']}/timer"
    statuses = [
        (await http.get(url, headers={"Authorization": f"Bearer {p['token']}"})).status_code
        for _ in range(3)
        for p in people
    ]
    assert statuses == [200] * 8 + [429] * 4
    # Unauthenticated requests count too: the IP is limited before any session is read.
    assert_429(await http.get(url), "too-many-requests", 60)
    lint = await http.post(f"{server.url}/api/lint/actions", json={"actions": []})
    assert_429(lint, "too-many-requests", 60)


async def test_review_creation_per_ip(start: Start, http: httpx.AsyncClient) -> None:
    server = start(DEBRIEF_RATE_CREATES="3/minute")
    for _ in range(3):
        await create_review(server.url)
    refused = await http.post(f"{server.url}/api/reviews", json={"title": "x"})
    assert_429(refused, "too-many-reviews", 60)


def request_from(host: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    scope = {"type": "http", "headers": headers, "client": (host, 50000)}
    return Request(scope)


def test_client_ip() -> None:
    spoofed = request_from("10.0.0.9", "6.6.6.6, 1.2.3.4")
    assert client_ip(spoofed, trust_proxy=False) == "10.0.0.9"
    # Behind the proxy: its own (last) hop, never what the client put before it.
    assert client_ip(spoofed, trust_proxy=True) == "1.2.3.4"
    assert client_ip(request_from("10.0.0.9"), trust_proxy=True) == "10.0.0.9"
    # One IPv6 host holds a /64: all of it is one client.
    assert client_ip(request_from("2001:db8::1"), False) == "2001:db8::/64"
    assert client_ip(request_from("2001:db8::ffff:1"), False) == "2001:db8::/64"
    assert client_ip(request_from("::ffff:192.0.2.7"), False) == "192.0.2.7"
