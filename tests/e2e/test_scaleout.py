"""Several `debrief serve --redis` processes serving the same reviews (issue 5).

Real processes, real Redis (the shared one on 6379 with a key prefix per test, or a
throwaway redis-server for the restart test), real websockets, Debian's nginx.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from pycrdt import Array, Map, Text

from support.api import create_review, join
from support.meeting import open_review
from support.scaleout import Cluster, Nginx, ThrowawayRedis, reconnect
from support.server import ServerProcess, wait_until
from support.yclient import YClient, synced_client

VOTE_SECTION = "contributing-factor"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path, 3).start()
    try:
        yield running
    finally:
        running.stop()


async def tokens_for(servers: list[ServerProcess], review: dict[str, Any], role: str) -> list[str]:
    """One session per server, each joined through that server."""
    invite = review["invites"][role]
    return [(await join(s.url, invite, f"{role}{i}"))["token"] for i, s in enumerate(servers)]


async def connect(ws_url: str, review_id: str, token: str, doc: str = "timeline") -> YClient:
    return await synced_client(ws_url, review_id, doc, token)


async def one_participant_on_each(
    cluster: Cluster,
) -> tuple[dict[str, Any], list[str], list[YClient]]:
    """A new review, and a participant connected through each process in turn."""
    review = await create_review(cluster.servers[0].url)
    tokens = await tokens_for(cluster.servers, review, "participant")
    clients = [
        await connect(s.ws_url, review["id"], t)
        for s, t in zip(cluster.servers, tokens, strict=True)
    ]
    return review, tokens, clients


def events(c: YClient) -> dict[str, Any]:
    return dict(c.doc.get("entries", type=Map).to_py() or {})


def text_of(c: YClient) -> str:
    return str(c.doc.get("t", type=Text))


def log_items(c: YClient) -> list[str]:
    return [str(item) for item in c.doc.get("log", type=Array)]


async def test_every_update_reaches_every_client_and_late_joiners(cluster: Cluster) -> None:
    servers = cluster.servers
    review = await create_review(servers[0].url)
    tokens = await tokens_for(servers * 2, review, "participant")
    clients = [
        await connect(servers[i % 3].ws_url, review["id"], tok) for i, tok in enumerate(tokens)
    ]
    for i, c in enumerate(clients):
        c.doc.get("entries", type=Map)[f"e{i}"] = f"event {i}"
    for c in clients:
        await c.wait_for(lambda c=c: len(events(c)) == 6)
    clients[1].doc.get("t", type=Text).insert(0, "Deploy paused. ")
    await clients[2].wait_for(lambda: text_of(clients[2]) == "Deploy paused. ")
    clients[2].doc.get("t", type=Text).insert(len(text_of(clients[2])), "Rollback at 14:05.")
    for c in clients:
        await c.wait_for(lambda c=c: text_of(c).endswith("Rollback at 14:05."))
    for server, tok in zip(servers, tokens, strict=False):
        late = await connect(server.ws_url, review["id"], tok)
        assert events(late) == events(clients[0])
        assert text_of(late) == "Deploy paused. Rollback at 14:05."
        await late.close()
    for c in clients:
        await c.close()


async def test_awareness_crosses_processes_and_leaves_with_its_connection(
    cluster: Cluster,
) -> None:
    servers = cluster.servers
    review = await create_review(servers[0].url)
    alice, bob, carol = await tokens_for(servers, review, "participant")
    a = await connect(servers[0].ws_url, review["id"], alice)
    b = await connect(servers[1].ws_url, review["id"], bob)
    cid = a.doc.client_id
    await a.set_awareness({"cursor": 7, "user": {"name": "Moderator", "role": "moderator"}}, 1)
    await b.wait_for(lambda: b.awareness.get(cid) is not None)
    state = b.awareness[cid]
    assert state is not None and state["cursor"] == 7
    assert state["user"]["name"] == "participant0"  # stamped by a's process, not forged
    assert state["user"]["role"] == "participant"
    # a joiner on a third process gets the presence already there
    c = await connect(servers[2].ws_url, review["id"], carol)
    await c.wait_for(lambda: (c.awareness.get(cid) or {}).get("cursor") == 7)
    await a.close()
    for watcher in (b, c):
        await watcher.wait_for(lambda w=watcher: w.awareness.get(cid, "gone") is None)
    await b.close()
    await c.close()


WINDOW = 200


class Tally:
    """How many entries of each writer a client has received, kept as they arrive."""

    def __init__(self, client: YClient) -> None:
        self.client = client
        self.counts: Counter[str] = Counter()
        client.doc.get("log", type=Array).observe(self._count)

    def _count(self, event: Any) -> None:
        for change in event.delta:
            for item in change.get("insert", ()):
                self.counts[str(item).split("-", 1)[0]] += 1

    async def wait_until(self, name: str, count: int, stop: asyncio.Event) -> None:
        """Until the client has ``count`` entries of ``name``, is closed, or ``stop`` is set."""
        waits = [
            asyncio.ensure_future(self.client.wait_for(lambda: self.counts[name] >= count, 60)),
            asyncio.ensure_future(self.client.closed.wait()),
            asyncio.ensure_future(stop.wait()),
        ]
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for finished in done:
            finished.result()


async def test_kill_9_one_process_loses_nothing_and_applies_nothing_twice(
    cluster: Cluster,
) -> None:
    s0, s1, s2 = cluster.servers
    review = await create_review(s1.url)
    w0_tok, w1_tok, _ = await tokens_for(cluster.servers, review, "participant")
    o0_tok, o1_tok, o2_tok = await tokens_for(cluster.servers, review, "observer")
    writer0 = await connect(s0.ws_url, review["id"], w0_tok)
    writer1 = await connect(s1.ws_url, review["id"], w1_tok)
    watchers = [
        await connect(s.ws_url, review["id"], t)
        for s, t in ((s0, o0_tok), (s1, o1_tok), (s2, o2_tok))
    ]
    cid0 = writer0.doc.client_id
    await writer0.set_awareness({"cursor": 1}, 1)
    await watchers[2].wait_for(lambda: watchers[2].awareness.get(cid0) is not None)

    # Each writer keeps at most WINDOW of its entries unseen by a watcher on its own
    # process. Unpaced, a writer fills the socket buffers with ~10,000 entries its server
    # then needs many seconds to work through (measured: 12,739 written, 2,336 applied),
    # and the late joiner's wait below measures that queue instead of what was lost.
    seen_by = {"w0": Tally(watchers[0]), "w1": Tally(watchers[1])}

    async def stream(c: YClient, name: str, stop: asyncio.Event) -> None:
        items = c.doc.get("log", type=Array)
        mirror = seen_by[name]
        i = 0
        while not stop.is_set():
            items.append(f"{name}-{i}")
            i += 1
            if i % 50 == 0:
                await mirror.wait_until(name, i - WINDOW, stop)
            else:
                await asyncio.sleep(0)

    stop0, stop1 = asyncio.Event(), asyncio.Event()
    tasks = [
        asyncio.create_task(stream(writer0, "w0", stop0)),
        asyncio.create_task(stream(writer1, "w1", stop1)),
    ]

    def from_both(c: YClient, n: int) -> bool:
        items = log_items(c)
        return (
            sum(i.startswith("w0-") for i in items) >= n
            and sum(i.startswith("w1-") for i in items) >= n
        )

    await watchers[2].wait_for(lambda: from_both(watchers[2], 100), 60)
    s0.kill()
    await watchers[0].wait_closed()
    await writer0.wait_closed()
    stop0.set()
    seen = set(log_items(watchers[0]))  # what the dead process had shown its clients
    # the dead process's presence goes when its heartbeat expires
    await watchers[2].wait_for(lambda: watchers[2].awareness.get(cid0, "gone") is None)
    # writer0 moves to another process with its doc, and carries on
    await reconnect(writer0, s2.ws_url, review["id"], "timeline")
    writer0.doc.get("log", type=Array).append("w0-after-move")
    await watchers[1].wait_for(lambda: "w0-after-move" in log_items(watchers[1]), 30)
    stop1.set()
    await asyncio.gather(*tasks)
    expected = set(log_items(writer0)) | set(log_items(writer1))
    late = await connect(s1.ws_url, review["id"], o1_tok)
    await late.wait_for(lambda: set(log_items(late)) >= expected, 30)
    for c in (*watchers[1:], late):
        await c.wait_for(lambda c=c: set(log_items(c)) >= expected, 30)
        items = log_items(c)
        assert seen <= set(items), "an update a client had seen is gone"
        assert len(items) == len(set(items)), "an update was applied twice"
    # and the log itself holds no entry twice
    client = aioredis.Redis.from_url(cluster.redis_url)
    entries = await client.xrange(f"{cluster.prefix}doc:{review['id']}/timeline:log")
    await client.aclose()
    payloads = [fields[b"u"] for _, fields in entries]
    assert len(payloads) == len(set(payloads))
    for c in (writer0, writer1, *watchers, late):
        await c.close()


async def test_presence_moves_with_its_client_off_a_killed_process(tmp_path: Path) -> None:
    """The dead process's heartbeat outlives this test (60 s), so the moved client's new
    presence shows only because the same participant may take its client id over."""
    cluster = Cluster(tmp_path, 2)
    for server in cluster.servers:
        server.env["DEBRIEF_NODE_TTL"] = "60"
    cluster.start()
    try:
        s0, s1 = cluster.servers
        review, _, (alice, bob) = await one_participant_on_each(cluster)
        cid = alice.doc.client_id

        def cursor() -> Any:
            return (bob.awareness.get(cid) or {}).get("cursor")

        await alice.set_awareness({"cursor": 1}, 1)
        await bob.wait_for(lambda: cursor() == 1)
        s0.kill()
        await alice.wait_closed()
        await reconnect(alice, s1.ws_url, review["id"], "timeline")
        await alice.set_awareness({"cursor": 2}, 2)
        await bob.wait_for(lambda: cursor() == 2)
        assert bob.awareness[cid]["user"]["name"] == "participant0"
        await alice.close()
        await bob.wait_for(lambda: bob.awareness.get(cid, "gone") is None)
        await bob.close()
    finally:
        cluster.stop()


async def health_is(server: ServerProcess, status: int) -> bool:
    async with httpx.AsyncClient() as http:
        try:
            return (await http.get(server.url + "/healthz", timeout=2)).status_code == status
        except httpx.TransportError:
            return False


async def test_redis_restart_mid_meeting_processes_recover_by_themselves(
    tmp_path: Path,
) -> None:
    store = ThrowawayRedis(tmp_path / "redis").start()
    cluster = Cluster(tmp_path, 2, redis_url=store.url).start()
    try:
        s0, s1 = cluster.servers
        review, (_, b_tok), (a, b) = await one_participant_on_each(cluster)
        a.doc.get("t", type=Text).insert(0, "before;")
        await b.wait_for(lambda: text_of(b) == "before;")

        store.kill()
        assert await a.wait_closed() == 1011
        assert await b.wait_closed() == 1011
        for server in (s0, s1):
            await wait_until(lambda server=server: health_is(server, 503))
        async with httpx.AsyncClient(base_url=s1.url) as http:
            refused = await http.post("/api/join", json={"invite": review["invites"]["scribe"]})
        assert refused.status_code == 503
        assert refused.json()["error"] == "storage-unavailable"
        a.doc.get("t", type=Text).insert(len(text_of(a)), "offline;")  # kept by the client

        store.start()  # same port, same AOF: the processes are not restarted
        for server in (s0, s1):
            await wait_until(lambda server=server: health_is(server, 200))
        await reconnect(a, s0.ws_url, review["id"], "timeline")
        await reconnect(b, s1.ws_url, review["id"], "timeline")
        await b.wait_for(lambda: text_of(b) == "before;offline;")
        b.doc.get("t", type=Text).insert(len(text_of(b)), "after;")
        await a.wait_for(lambda: text_of(a) == "before;offline;after;")
        late = await connect(s1.ws_url, review["id"], b_tok)
        assert text_of(late) == "before;offline;after;"
        for c in (a, b, late):
            await c.close()
    finally:
        cluster.stop()
        store.kill()


async def test_nginx_in_front_of_two_processes(tmp_path: Path) -> None:
    if Nginx.binary() is None:
        pytest.fail("nginx is not installed: run scripts/test-deps")
    cluster = Cluster(tmp_path, 2).start()
    proxy = Nginx(tmp_path / "nginx", [s.port for s in cluster.servers])
    try:
        proxy.start()
        s0, s1 = cluster.servers
        review = await create_review(proxy.url)
        invite = review["invites"]["participant"]
        tokens = [(await join(proxy.url, invite, f"p{i}"))["token"] for i in range(3)]
        via_proxy = await connect(proxy.ws_url, review["id"], tokens[0])
        direct = [
            await connect(s.ws_url, review["id"], t)
            for s, t in zip((s0, s1), tokens[1:], strict=True)
        ]
        # nginx picked one of the two; the other one is "another process" for sure
        for i, c in enumerate(direct):
            c.doc.get("entries", type=Map)[f"direct{i}"] = i
        await via_proxy.wait_for(lambda: {"direct0", "direct1"} <= set(events(via_proxy)))
        via_proxy.doc.get("entries", type=Map)["proxied"] = True
        for c in direct:
            await c.wait_for(lambda c=c: "proxied" in events(c))
        for c in (via_proxy, *direct):
            await c.close()
    finally:
        proxy.stop()
        cluster.stop()


async def test_votes_over_two_processes(cluster: Cluster) -> None:
    """Votes through two processes at once: the limit holds, each answer gives the
    voter's votes right after that vote, and the review's lock, which a vote lets go
    with its own write, is free for the next command on either process."""
    first, second = cluster.servers[:2]
    async with httpx.AsyncClient(base_url=first.url, timeout=60) as http:
        review = await open_review(first, http, "Votes on two processes")
        await review.ok("moderator", "PATCH", "", {"settings": {"votes_per_person": 3}})
        await review.ok("moderator", "POST", "/status", {"status": "live"})
        for text in ("Alert was muted", "Runbook was stale"):
            await review.ok("scribe", "POST", "/notes", {"text": text})
        await review.ok("moderator", "POST", "/reveal", {"section": VOTE_SECTION})
        room = await review.client("observer", "room")
        await room.wait_for(lambda: len(room.doc.get("notes", type=Map)) == 2)
        targets = list(room.doc.get("notes", type=Map).keys())
        await review.ok("moderator", "POST", "/voting/open", {"section": VOTE_SECTION})

        voter = review.people["participant"].headers
        limits = httpx.Limits(max_connections=40, max_keepalive_connections=0)
        async with (
            httpx.AsyncClient(base_url=first.url, limits=limits, timeout=60) as one,
            httpx.AsyncClient(base_url=second.url, limits=limits, timeout=60) as two,
        ):
            answers = await asyncio.gather(
                *(
                    (one, two)[i % 2].post(
                        f"{review.base}/votes", json={"target": targets[i % 2]}, headers=voter
                    )
                    for i in range(40)
                )
            )
        accepted = [r.json() for r in answers if r.status_code == 200]
        refused = [r.json() for r in answers if r.status_code != 200]
        assert len(accepted) == 3 and len(refused) == 37
        assert {r["error"] for r in refused} == {"vote-limit"}
        # Each accepted answer holds the votes right after its own: the 1st, 2nd and 3rd.
        assert sorted(a["used"] for a in accepted) == [1, 2, 3]
        assert all(sum(a["votes"].values()) == a["used"] for a in accepted)

        # The lock is free: retractions on the other process, then a close on the first.
        last = max(accepted, key=lambda a: a["used"])
        some, stacked = next(iter(last["votes"].items()))
        async with httpx.AsyncClient(base_url=second.url, timeout=60) as other:
            for left in range(stacked - 1, -1, -1):
                taken = await other.post(
                    f"{review.base}/votes/retract", json={"target": some}, headers=voter
                )
                assert taken.status_code == 200 and taken.json()["votes"].get(some, 0) == left
            none_left = await other.post(
                f"{review.base}/votes/retract", json={"target": some}, headers=voter
            )
            assert none_left.status_code == 404 and none_left.json()["error"] == "no-vote"
        remaining = 3 - stacked
        await review.ok("moderator", "POST", "/voting/close", {"section": VOTE_SECTION})
        await room.wait_for(
            lambda: sum((room.doc.get("votes", type=Map).to_py() or {}).values()) == remaining
        )
        await room.close()


async def test_note_counts_shown_through_one_process_reach_clients_of_the_others(
    cluster: Cluster,
) -> None:
    """A hidden note's count is not in the doc's log: the process that stores the note
    shows it in its awareness, and the relay takes it to the other processes' peers; a
    client joining a process that has not loaded the room yet reads it from the tally."""
    first, second, third = cluster.servers
    async with httpx.AsyncClient(base_url=first.url, timeout=60) as http:
        review = await open_review(first, http, "Counts on three processes")
        observer = review.people["observer"].token
        watcher = await synced_client(second.ws_url, review.id, "room", observer)
        for text in ("Alert was muted", "Runbook was stale"):
            await review.ok("scribe", "POST", "/notes", {"text": text})
        await watcher.wait_for(lambda: watcher.note_counts().get(VOTE_SECTION) == 2)
        late = await synced_client(third.ws_url, review.id, "room", observer)
        await late.wait_for(lambda: late.note_counts().get(VOTE_SECTION) == 2)
        async with httpx.AsyncClient(base_url=third.url, timeout=60) as other:
            review.http = other
            await review.ok("participant", "POST", "/notes", {"text": "Pager rota was old"})
        for client in (watcher, late):
            await client.wait_for(lambda c=client: c.note_counts().get(VOTE_SECTION) == 3)
            assert client.doc.get("note_counts", type=Map).to_py() in ({}, None)
            await client.close()
