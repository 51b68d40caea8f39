"""A peer that stops reading is cut loose (1013) without holding anyone else back."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import websockets
from pycrdt import Map

from support.api import participant_review
from support.server import ServerProcess
from support.yclient import synced_client


def metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} missing")


async def test_stalled_reader_is_closed_and_others_get_everything(tmp_path: Path) -> None:
    server = ServerProcess(
        tmp_path / "d", env={"DEBRIEF_PEER_QUEUE": "16", "DEBRIEF_PEER_BUFFER": "1000000"}
    ).start()
    try:
        review, tok = await participant_review(server.url)
        writer = await synced_client(server.ws_url, review["id"], "timeline", tok)
        reader = await synced_client(server.ws_url, review["id"], "timeline", tok)
        # a raw client that never reads: the kernel buffers fill, then our queue
        stalled = await websockets.connect(
            f"{server.ws_url}/ws/{review['id']}/timeline",
            additional_headers={"Authorization": f"Bearer {tok}"},
            max_queue=1,
        )
        blob = secrets.token_urlsafe(45_000)  # incompressible, ~60 kB
        events = writer.doc.get("m", type=Map)
        seen = reader.doc.get("m", type=Map)
        for i in range(300):  # one frame each: wait for the reader before the next edit
            events[f"k{i}"] = blob
            await reader.wait_for(lambda i=i: f"k{i}" in seen)
        assert len(seen) == 300
        async with httpx.AsyncClient(base_url=server.url) as http:
            text = (await http.get("/metrics")).text
        assert metric(text, "debrief_slow_peers_closed_total") == 1
        await stalled.close()
        await writer.close()
        await reader.close()
    finally:
        server.stop()


async def test_fan_out_uses_the_direct_socket_path(tmp_path: Path) -> None:
    """With a one-frame queue, only the write-straight-to-socket path can serve a sync.

    Queued peers would be closed at once (the greeting and the sync answer are two
    frames); the fast path bounds by buffered bytes instead. Guards against the fast
    path silently falling back (e.g. a framework wrapping ``send``).
    """
    server = ServerProcess(tmp_path / "d", env={"DEBRIEF_PEER_QUEUE": "1"}).start()
    try:
        review, tok = await participant_review(server.url)
        a = await synced_client(server.ws_url, review["id"], "timeline", tok)
        b = await synced_client(server.ws_url, review["id"], "timeline", tok)
        for i in range(20):
            a.doc.get("m", type=Map)[f"k{i}"] = i
        await b.wait_for(lambda: len(b.doc.get("m", type=Map)) == 20)
        assert not a.closed.is_set() and not b.closed.is_set()
        await a.close()
        await b.close()
    finally:
        server.stop()
