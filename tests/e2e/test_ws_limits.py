"""Websocket bounds against a real server: presence floods close the flooder and never a
bystander, presence ids stay with their participant, sockets per session are capped,
slow-loris connections are dropped, and a session that expires closes its sockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from pycrdt import Map, write_var_uint

from debrief.protocol import awareness_frame
from support.api import create_review, join
from support.meeting import Review, open_review
from support.node import NodeClient
from support.server import ServerProcess
from support.yclient import YClient, raw_awareness, synced_client

FAKE_IDS = 100_000
PER_MESSAGE = 1024


@pytest.fixture
async def review(server: ServerProcess) -> AsyncIterator[Review]:
    async with httpx.AsyncClient(base_url=server.url) as http:
        yield await open_review(server, http, "Presence review")


def rss_kib(server: ServerProcess) -> int:
    assert server.proc is not None
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1])


async def flood_presence(client: YClient, first_id: int) -> None:
    """Register FAKE_IDS made-up client ids, as fast as the socket takes them."""
    assert client.ws is not None
    with contextlib.suppress(websockets.ConnectionClosed):
        for start in range(first_id, first_id + FAKE_IDS, PER_MESSAGE):
            ids = range(start, min(start + PER_MESSAGE, first_id + FAKE_IDS))
            payload = raw_awareness([(cid, 1, {"user": {"name": "x" * 40}}) for cid in ids])
            await client.ws.send(awareness_frame(payload))


def awareness_bytes(client: YClient) -> int:
    return sum(len(frame) for frame in client.received_frames if frame[:1] == b"\x01")


async def test_presence_flooder_is_closed_and_the_moderator_stays(review: Review) -> None:
    server = review.server
    moderator = await review.client("moderator", "room")
    before = rss_kib(server)
    flooders = [await review.client("observer", "room") for _ in range(5)]
    for i, flooder in enumerate(flooders):
        await flood_presence(flooder, 1_000_000 * (i + 1))
    for flooder in flooders:
        assert await flooder.wait_closed() == 1008
        assert "presence" in flooder.close_reason
    grown_mib = (rss_kib(server) - before) / 1024
    assert grown_mib < 40, f"the server grew by {grown_mib:.0f} MiB"
    # the bystander is still here and still gets the meeting's changes
    await review.ok("moderator", "POST", "/phase", {"phase_id": "timeline"})

    def phase() -> object:
        return moderator.doc.get("meeting", type=Map).to_py().get("phase_id")

    await moderator.wait_for(lambda: phase() == "timeline")
    assert not moderator.closed.is_set()
    # and a newcomer is not handed the flood
    newcomer = await review.client("participant", "room")
    assert awareness_bytes(newcomer) < 64 * 1024
    assert server.proc is not None and server.proc.poll() is None
    for c in (moderator, newcomer):
        await c.close()


async def test_deeply_nested_presence_is_refused_with_1002(review: Review) -> None:
    server = review.server
    client = await review.client("participant", "timeline")
    depth = 100_000
    state = ("[" * depth + "]" * depth).encode()
    body = write_var_uint(1) + write_var_uint(client.doc.client_id) + write_var_uint(1)
    body += write_var_uint(len(state)) + state
    await client.send_raw(awareness_frame(body))
    assert await client.wait_closed() == 1002
    assert "awareness state" in client.close_reason
    assert server.proc is not None and server.proc.poll() is None
    async with httpx.AsyncClient() as http:
        assert (await http.get(server.url + "/healthz")).status_code == 200


async def test_a_freed_client_id_stays_with_its_participant(server: ServerProcess) -> None:
    created = await create_review(server.url)
    tokens = {
        name: (await join(server.url, created["invites"]["participant"], name))["token"]
        for name in ("Alice", "Bob", "Mallory")
    }
    rid = created["id"]
    alice = await synced_client(server.ws_url, rid, "timeline", tokens["Alice"])
    bob = await synced_client(server.ws_url, rid, "timeline", tokens["Bob"])
    cid = alice.doc.client_id
    await alice.set_awareness({"cursor": 1}, 1)
    await bob.wait_for(lambda: bob.awareness.get(cid) is not None)
    await alice.close()
    await bob.wait_for(lambda: bob.awareness.get(cid, "gone") is None)

    mallory = await synced_client(server.ws_url, rid, "timeline", tokens["Mallory"])
    await mallory.set_awareness({"cursor": 66}, 50, client_id=cid)
    await mallory.wait_for(lambda: len(mallory.denied) >= 1)
    assert "another participant" in mallory.denied[0]

    # Alice, reconnected, takes her id back with the clock her browser still has
    again = await synced_client(server.ws_url, rid, "timeline", tokens["Alice"])
    await again.set_awareness({"cursor": 2}, 1, client_id=cid)
    await bob.wait_for(lambda: (bob.awareness.get(cid) or {}).get("cursor") == 2)
    state = bob.awareness[cid]
    assert state is not None and state["user"]["name"] == "Alice"
    assert again.denied == []
    for c in (bob, mallory, again):
        await c.close()


async def test_sockets_per_session_are_capped(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"DEBRIEF_SOCKETS_PER_SESSION": "3"}).start()
    try:
        created = await create_review(server.url)
        token = (await join(server.url, created["invites"]["observer"], "Olga"))["token"]
        rid = created["id"]
        open_ = [await synced_client(server.ws_url, rid, doc, token) for doc in ("room",) * 3]
        extra = await YClient(server.ws_url, rid, "timeline", token).connect()
        assert await extra.wait_closed() == 4429
        assert "too many connections" in extra.close_reason
        # another session is not affected
        other = (await join(server.url, created["invites"]["observer"], "Omar"))["token"]
        fine = await synced_client(server.ws_url, rid, "room", other)
        # a socket that closes makes room for another
        await open_[0].close()

        async def fourth_opens() -> bool:
            client = await YClient(server.ws_url, rid, "room", token).connect()
            await client.wait_for(lambda: client.synced.is_set() or client.closed.is_set())
            if client.synced.is_set():
                open_.append(client)
                return True
            return False

        async with asyncio.timeout(20):
            while not await fourth_opens():  # noqa: ASYNC110 - the release has no event
                await asyncio.sleep(0.05)
        for c in (*open_[1:], fine):
            await c.close()
    finally:
        server.stop()


async def test_slow_loris_connections_are_dropped(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"DEBRIEF_HEADER_TIMEOUT": "1"}).start()
    try:
        sockets = []
        for i in range(60):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            if i % 3 == 0:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            elif i % 3 == 1:
                writer.write(b"GET /ws/r/room HTTP/1.1\r\nUpgrade: websocket\r\n")
            await writer.drain()
            sockets.append((reader, writer))
        # meanwhile the server answers everyone else
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.url + "/healthz")).status_code == 200
        async with asyncio.timeout(30):
            for reader, writer in sockets:
                answer = await reader.read()  # until the server closes the connection
                assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:80]
                if answer:
                    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
                    assert body["error"] == "request_timeout"
                writer.close()
        # a keep-alive connection's next request gets the same deadline
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n")
        await writer.drain()
        async with asyncio.timeout(30):
            answer = await reader.read()
        assert answer.startswith(b"HTTP/1.1 200") and b"408 Request Timeout" in answer
        writer.close()
        assert server.proc is not None and server.proc.poll() is None
    finally:
        server.stop()


async def test_a_socket_is_closed_when_its_session_expires(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"DEBRIEF_SESSION_TTL": "2"}).start()
    try:
        created = await create_review(server.url)
        token = (await join(server.url, created["invites"]["participant"], "Pat"))["token"]
        client = await synced_client(server.ws_url, created["id"], "timeline", token)
        assert await client.wait_closed() == 4401
        assert client.close_reason == "session expired"
    finally:
        server.stop()


async def test_echoing_tabs_of_one_person_keep_their_own_presence(server: ServerProcess) -> None:
    """Stock y-websocket providers send back every presence change they receive. Two
    tabs of one person (one session) echo each other's state: neither may take the
    other's over, so when one tab is gone its presence goes and the other's stays."""
    created = await create_review(server.url)
    token = (await join(server.url, created["invites"]["participant"], "Tab"))["token"]
    watcher_token = (await join(server.url, created["invites"]["observer"], "W"))["token"]
    rid = created["id"]
    watcher = await synced_client(server.ws_url, rid, "timeline", watcher_token)
    tabs = [await NodeClient.start(server.ws_url, rid, "timeline", token) for _ in range(2)]
    try:
        for i, tab in enumerate(tabs):
            await tab.next_event("synced")
            await tab.command(aware=["tab", i])
        for i in range(2):
            await watcher.wait_for(
                lambda i=i: any((s or {}).get("tab") == i for s in watcher.awareness.values())
            )
        for round_ in range(5):  # changes the other tab echoes back
            await tabs[0].command(aware=["round", round_])
        await watcher.wait_for(
            lambda: any((s or {}).get("round") == 4 for s in watcher.awareness.values())
        )
        tabs[0].proc.kill()  # gone without saying so, as a crashed tab
        await watcher.wait_for(
            lambda: not any((s or {}).get("tab") == 0 for s in watcher.awareness.values())
        )
        assert any((s or {}).get("tab") == 1 for s in watcher.awareness.values())
        assert tabs[1].proc.returncode is None  # not closed as a flood
    finally:
        for tab in tabs:
            await tab.stop()
    await watcher.close()
