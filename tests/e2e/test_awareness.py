"""Presence is relayed, stamped by the server, bound to its connection, and cleaned up."""

from __future__ import annotations

from support.api import create_review, join
from support.server import ServerProcess
from support.yclient import YClient, synced_client


async def connect(server: ServerProcess, review_id: str, token: str) -> YClient:
    return await synced_client(server.ws_url, review_id, "timeline", token)


async def test_awareness_is_stamped_and_removed_on_close(server: ServerProcess) -> None:
    review = await create_review(server.url)
    alice = (await join(server.url, review["invites"]["participant"], "Alice"))["token"]
    bob = (await join(server.url, review["invites"]["participant"], "Bob"))["token"]
    a = await connect(server, review["id"], alice)
    b = await connect(server, review["id"], bob)
    cid = a.doc.client_id
    await a.set_awareness({"cursor": 3, "user": {"name": "Moderator", "role": "moderator"}}, 1)
    await b.wait_for(lambda: b.awareness.get(cid) is not None)
    state = b.awareness[cid]
    assert state is not None
    assert state["cursor"] == 3
    assert state["user"]["name"] == "Alice"
    assert state["user"]["role"] == "participant"
    await a.close()
    await b.wait_for(lambda: b.awareness.get(cid, "gone") is None)
    await b.close()


async def test_cannot_set_another_connections_client_id(server: ServerProcess) -> None:
    review = await create_review(server.url)
    alice = (await join(server.url, review["invites"]["participant"], "Alice"))["token"]
    mallory = (await join(server.url, review["invites"]["participant"], "Mallory"))["token"]
    a = await connect(server, review["id"], alice)
    m = await connect(server, review["id"], mallory)
    cid = a.doc.client_id
    await a.set_awareness({"cursor": 1}, 1)
    await m.wait_for(lambda: m.awareness.get(cid) is not None)
    await m.set_awareness(
        {"cursor": 99, "user": {"name": "Alice", "role": "moderator"}}, 5, client_id=cid
    )
    await m.set_awareness(None, 6, client_id=cid)  # nor remove it
    await m.wait_for(lambda: len(m.denied) >= 2)
    # a later legitimate change still arrives, and the forged ones never did
    await a.set_awareness({"cursor": 2}, 2)
    await m.wait_for(lambda: (m.awareness.get(cid) or {}).get("cursor") == 2)
    state = m.awareness[cid]
    assert state is not None and state["user"]["name"] == "Alice"
    assert state["user"]["role"] == "participant"
    for c in (a, m):
        await c.close()
