"""The stock npm `yjs` + `y-websocket` provider syncs with a Python client through us."""

from __future__ import annotations

import httpx
from pycrdt import Map

from support.api import create_review, join
from support.node import NodeClient
from support.server import ServerProcess
from support.yclient import synced_client


async def test_node_provider_and_python_client_sync_both_ways(server: ServerProcess) -> None:
    review = await create_review(server.url)
    tok = (await join(server.url, review["invites"]["participant"], "Node"))["token"]
    py_tok = (await join(server.url, review["invites"]["scribe"], "Py"))["token"]
    py = await synced_client(server.ws_url, review["id"], "timeline", py_tok)
    py.doc.get("m", type=Map)["from_python"] = "before node joined"

    node = await NodeClient.start(server.ws_url, review["id"], "timeline", tok)
    try:
        await node.next_event("synced")
        await node.wait_map(lambda m: m.get("from_python") == "before node joined")
        await node.command(set=["from_node", "hello"])
        await py.wait_for(lambda: py.doc.get("m", type=Map).get("from_node") == "hello")
        py.doc.get("m", type=Map)["reply"] = "hi node"
        await node.wait_map(lambda m: m.get("reply") == "hi node")
        # the Node provider's awareness reaches Python stamped with the session's user
        await py.wait_for(
            lambda: any(
                (s or {}).get("user", {}).get("name") == "Node" for s in py.awareness.values()
            )
        )
    finally:
        await node.stop()
    await py.close()


def denied_count(metrics_text: str) -> float:
    for line in metrics_text.splitlines():
        if line.startswith("debrief_writes_denied_total "):
            return float(line.split()[1])
    raise AssertionError("metric missing")


async def test_read_only_node_provider_is_never_denied(server: ServerProcess) -> None:
    """An observer's provider answers our step 1 with its whole delete set: not a write."""
    review = await create_review(server.url)
    scribe = (await join(server.url, review["invites"]["scribe"]))["token"]
    observer = (await join(server.url, review["invites"]["observer"], "Watcher"))["token"]
    writer = await synced_client(server.ws_url, review["id"], "timeline", scribe)
    shared = writer.doc.get("m", type=Map)
    shared["gone"] = 1
    del shared["gone"]
    shared["kept"] = 2
    node = await NodeClient.start(server.ws_url, review["id"], "timeline", observer)
    try:
        await node.next_event("synced")
        await node.wait_map(lambda m: m == {"kept": 2})
        # sent after its step 2, so once we see it the server has judged that step 2
        await node.command(aware=["ready", True])
        await writer.wait_for(
            lambda: any((s or {}).get("ready") for s in writer.awareness.values())
        )
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert denied_count((await http.get("/metrics")).text) == 0
        # and a real write from the observer is refused
        await node.command(set=["sneaky", 1])
        await node.command(aware=["ready", "again"])
        await writer.wait_for(
            lambda: any((s or {}).get("ready") == "again" for s in writer.awareness.values())
        )
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert denied_count((await http.get("/metrics")).text) == 1
        assert "sneaky" not in writer.doc.get("m", type=Map)
    finally:
        await node.stop()
    await writer.close()
