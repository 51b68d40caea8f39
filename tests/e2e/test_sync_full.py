"""`/ws/{review}/{doc}?sync=full`: the connection itself asks for the whole doc.

The web app's boot.js opens a review's doc sockets this way before the app's code has
loaded (web/src/boot/handoff.ts): the server sends the doc at once, as if the client's
first message had been sync step 1 with an empty state vector, so nothing from the page
is needed before the doc is on its way. Real server, real websockets, pycrdt docs.
"""

from __future__ import annotations

import asyncio

import websockets
from pycrdt import Doc, Map

from debrief.protocol import AwarenessFrame, Frame, SyncStep1, SyncStep2, parse_frame
from support.api import create_review, join
from support.server import ServerProcess
from support.yclient import synced_client

QUERY_AWARENESS = bytes([3])


async def frames_until(
    ws: websockets.ClientConnection, last: type[Frame], timeout: float = 20
) -> list[Frame]:
    """The frames the server sends, up to and including the first of kind ``last``."""
    got: list[Frame] = []
    async with asyncio.timeout(timeout):
        while not got or not isinstance(got[-1], last):
            data = await ws.recv()
            assert isinstance(data, bytes)
            got.append(parse_frame(data))
    return got


async def timeline_with_events(server: ServerProcess) -> tuple[str, str]:
    """A review whose timeline doc holds two entries; its id and a participant's token."""
    review = await create_review(server.url)
    token = (await join(server.url, review["invites"]["participant"], name="Ana"))["token"]
    writer = await synced_client(server.ws_url, review["id"], "timeline", token)
    entries = writer.doc.get("entries", type=Map)
    entries["e1"] = "the deploy starts"
    entries["e2"] = "errors rise"
    reader = await synced_client(server.ws_url, review["id"], "timeline", token)
    await reader.wait_for(lambda: len(reader.doc.get("entries", type=Map)) == 2)
    await reader.close()
    await writer.close()
    return review["id"], token


async def test_the_whole_doc_comes_unasked(server: ServerProcess) -> None:
    review_id, token = await timeline_with_events(server)
    url = f"{server.ws_url}/ws/{review_id}/timeline?sync=full"
    auth = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, additional_headers=auth, max_size=None) as ws:
        frames = await frames_until(ws, SyncStep2)  # we send nothing
        assert isinstance(frames[0], SyncStep1)  # the server's greeting, as for anyone
        doc = Doc()
        step2 = frames[-1]
        assert isinstance(step2, SyncStep2)
        doc.apply_update(step2.update)
        assert dict(doc.get("entries", type=Map)) == {
            "e1": "the deploy starts",
            "e2": "errors rise",
        }


async def test_without_the_query_the_doc_waits_for_the_clients_request(
    server: ServerProcess,
) -> None:
    review_id, token = await timeline_with_events(server)
    auth = {"Authorization": f"Bearer {token}"}
    for query in ("", "?sync=fullest", "?sync=full&x=1", "?other=1"):
        url = f"{server.ws_url}/ws/{review_id}/timeline{query}"
        async with websockets.connect(url, additional_headers=auth, max_size=None) as ws:
            await ws.send(QUERY_AWARENESS)
            # The answer to our query comes after anything sent on connecting.
            frames = await frames_until(ws, AwarenessFrame)
            assert not [f for f in frames if isinstance(f, SyncStep2)], query


async def test_asking_with_the_connection_needs_a_session_like_any_other(
    server: ServerProcess,
) -> None:
    review_id, _ = await timeline_with_events(server)
    url = f"{server.ws_url}/ws/{review_id}/timeline?sync=full"
    async with websockets.connect(url, max_size=None) as ws:
        got: list[Frame] = []
        try:
            async with asyncio.timeout(20):
                async for data in ws:
                    assert isinstance(data, bytes)
                    got.append(parse_frame(data))
        except websockets.ConnectionClosed:
            pass
        assert ws.close_code == 4401
        assert got == []
