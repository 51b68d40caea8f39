"""Real server, real pycrdt clients over real websockets: the sync core end to end."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from pycrdt import Array, Map, Text

from debrief.protocol import keepalive_frame
from support.api import create_review, join
from support.server import ServerProcess, wait_until
from support.yclient import YClient, synced_client


async def review_with(server: ServerProcess, *roles: str) -> tuple[dict[str, Any], list[str]]:
    review = await create_review(server.url)
    tokens = [(await join(server.url, review["invites"][r], name=r))["token"] for r in roles]
    return review, tokens


async def client(server: ServerProcess, review_id: str, doc: str, token: str) -> YClient:
    return await synced_client(server.ws_url, review_id, doc, token)


def text_of(c: YClient, name: str = "t") -> str:
    return str(c.doc.get(name, type=Text))


async def test_sync_both_ways_and_late_joiner(server: ServerProcess) -> None:
    review, (a_tok, b_tok, c_tok) = await review_with(server, "participant", "scribe", "observer")
    a = await client(server, review["id"], "timeline", a_tok)
    b = await client(server, review["id"], "timeline", b_tok)
    a.doc.get("t", type=Text).insert(0, "from a;")
    await b.wait_for(lambda: "from a;" in text_of(b))
    b.doc.get("t", type=Text).insert(len(text_of(b)), "from b;")
    await a.wait_for(lambda: "from b;" in text_of(a))
    late = await client(server, review["id"], "timeline", c_tok)
    assert text_of(late) == text_of(a) == "from a;from b;"
    for c in (a, b, late):
        await c.close()


async def test_updates_reach_every_peer(server: ServerProcess) -> None:
    review, tokens = await review_with(server, *["participant"] * 5)
    clients = [await client(server, review["id"], "timeline", t) for t in tokens]
    for i, c in enumerate(clients):
        c.doc.get("entries", type=Map)[f"e{i}"] = f"event {i}"
    for c in clients:
        await c.wait_for(lambda c=c: len(c.doc.get("entries", type=Map)) == 5)
    for c in clients:
        await c.close()


async def test_concurrent_joins_share_one_room(server: ServerProcess) -> None:
    """100 clients join the same doc at once; everyone sees everyone's update."""
    review = await create_review(server.url)
    # ten people with ten tabs each (a session may hold only a few sockets)
    invite = review["invites"]["participant"]
    tokens = [(await join(server.url, invite))["token"] for _ in range(10)]
    clients = [YClient(server.ws_url, review["id"], "timeline", tokens[i % 10]) for i in range(100)]
    await asyncio.gather(*(c.connect() for c in clients))
    await asyncio.gather(*(c.wait_synced() for c in clients))
    for i, c in enumerate(clients):
        c.doc.get("joined", type=Map)[str(i)] = i
    await asyncio.gather(
        *(c.wait_for(lambda c=c: len(c.doc.get("joined", type=Map)) == 100, 60) for c in clients)
    )
    await asyncio.gather(*(c.close() for c in clients))


async def test_restart_keeps_content(server: ServerProcess) -> None:
    review, (tok,) = await review_with(server, "scribe")
    a = await client(server, review["id"], "recap", tok)
    a.doc.get("items", type=Array).append("Add an approval checkpoint")
    a.doc.get("t", type=Text).insert(0, "Recap text")
    observer = await client(server, review["id"], "recap", tok)
    await observer.wait_for(lambda: text_of(observer) == "Recap text")
    await a.close()
    await observer.close()
    assert server.stop() == 0
    server.start()
    again = await client(server, review["id"], "recap", tok)
    assert text_of(again) == "Recap text"
    assert list(again.doc.get("items", type=Array)) == ["Add an approval checkpoint"]
    await again.close()


async def test_kill_9_loses_nothing_any_client_saw(server: ServerProcess) -> None:
    review, (w_tok, r_tok) = await review_with(server, "participant", "observer")
    writer = await client(server, review["id"], "timeline", w_tok)
    reader = await client(server, review["id"], "timeline", r_tok)
    events = writer.doc.get("entries", type=Map)

    async def stream() -> None:
        for i in range(10_000):
            events[f"k{i}"] = i
            await asyncio.sleep(0)

    streaming = asyncio.create_task(stream())
    await reader.wait_for(lambda: len(reader.doc.get("entries", type=Map)) >= 200, 60)
    server.kill()
    streaming.cancel()
    await reader.wait_closed()
    seen = dict(reader.doc.get("entries", type=Map).to_py() or {})
    assert len(seen) >= 200
    server.start()
    # an observer cannot write, so nothing it holds can leak back in through its resync
    fresh = await client(server, review["id"], "timeline", r_tok)
    stored = dict(fresh.doc.get("entries", type=Map).to_py() or {})
    missing = set(seen) - set(stored)
    assert not missing, f"{len(missing)} updates a client had seen were lost"
    await writer.close()
    await fresh.close()


async def test_sigterm_closes_clients_for_reconnect_and_exits_0(server: ServerProcess) -> None:
    review, (tok,) = await review_with(server, "participant")
    a = await client(server, review["id"], "timeline", tok)
    a.doc.get("t", type=Text).insert(0, "kept")
    b = await client(server, review["id"], "timeline", tok)
    await b.wait_for(lambda: text_of(b) == "kept")
    assert server.stop() == 0
    assert await a.wait_closed() in (1001, 1012)
    server.start()
    again = await client(server, review["id"], "timeline", tok)
    assert text_of(again) == "kept"
    await again.close()


async def test_idle_connections_get_keepalive_frames(tmp_path: Path) -> None:
    """y-websocket providers give up after 30 s of silence; the server keeps them fed."""
    idle_server = ServerProcess(tmp_path / "idle", env={"DEBRIEF_KEEPALIVE": "0.3"}).start()
    try:
        review, (tok,) = await review_with(idle_server, "observer")
        c = await client(idle_server, review["id"], "room", tok)
        await c.wait_for(lambda: keepalive_frame() in c.received_frames)
        assert not c.closed.is_set()
        await c.close()
    finally:
        idle_server.stop()


async def rooms_loaded(server: ServerProcess) -> int:
    async with httpx.AsyncClient(base_url=server.url) as http:
        count: int = (await http.get("/healthz")).json()["rooms"]
        return count


async def rooms_loaded_is(server: ServerProcess, count: int) -> bool:
    return await rooms_loaded(server) == count


async def test_room_unloads_after_its_last_client_and_reloads(server: ServerProcess) -> None:
    review, (tok,) = await review_with(server, "participant")
    a = await client(server, review["id"], "timeline", tok)
    a.doc.get("t", type=Text).insert(0, "flushed first")
    b = await client(server, review["id"], "timeline", tok)
    await b.wait_for(lambda: text_of(b) == "flushed first")
    assert await rooms_loaded(server) >= 1
    await a.close()
    await b.close()
    # the grace period is 0.2 s in tests
    await wait_until(lambda: rooms_loaded_is(server, 0))
    again = await client(server, review["id"], "timeline", tok)
    assert text_of(again) == "flushed first"
    await again.close()
