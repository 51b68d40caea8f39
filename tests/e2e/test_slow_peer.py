"""A peer that stops reading is cut loose (1013) without holding anyone else back."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import websockets
from pycrdt import Map

from support.api import create_review, join
from support.server import ServerProcess
from support.yclient import YClient


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
        review = await create_review(server.url)
        tok = (await join(server.url, review["invites"]["participant"]))["token"]
        writer = await (
            await YClient(server.ws_url, review["id"], "timeline", tok).connect()
        ).wait_synced()
        reader = await (
            await YClient(server.ws_url, review["id"], "timeline", tok).connect()
        ).wait_synced()
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
