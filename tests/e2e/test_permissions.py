"""Roles enforced per doc: refused writes are not applied, stored or broadcast."""

from __future__ import annotations

import pytest
from pycrdt import Doc, Map, Text

from debrief.protocol import update_frame
from support.api import create_review, join
from support.server import ServerProcess
from support.yclient import YClient, synced_client

# (role, doc) pairs that must be refused
REFUSED = [
    ("participant", "room"),
    ("moderator", "room"),
    ("scribe", "room"),
    ("observer", "timeline"),
    ("observer", "recap"),
    ("participant", "recap"),
]


def forged_update(text: str) -> bytes:
    doc: Doc = Doc()
    doc.get("t", type=Text).insert(0, text)
    return doc.get_update()


@pytest.mark.parametrize(("role", "doc"), REFUSED)
async def test_refused_write_is_dropped_everywhere(
    server: ServerProcess, role: str, doc: str
) -> None:
    review = await create_review(server.url)
    bad = (await join(server.url, review["invites"][role]))["token"]
    watcher_token = (await join(server.url, review["invites"]["moderator"]))["token"]
    watcher = await synced_client(server.ws_url, review["id"], doc, watcher_token)
    writer = await synced_client(server.ws_url, review["id"], doc, bad)

    await writer.send_raw(update_frame(forged_update("forged")))
    await writer.wait_for(lambda: len(writer.denied) == 1)
    assert "read-only" in writer.denied[0]
    assert not writer.closed.is_set(), "a refused write must not disconnect the client"

    # a permitted write afterwards proves ordering: the watcher sees it and nothing else
    if doc != "room":
        allowed = (await join(server.url, review["invites"]["scribe"]))["token"]
        ok = await synced_client(server.ws_url, review["id"], doc, allowed)
        ok.doc.get("m", type=Map)["fine"] = True
        await watcher.wait_for(lambda: "fine" in watcher.doc.get("m", type=Map))
        await ok.close()
    assert str(watcher.doc.get("t", type=Text)) == ""
    for c in (writer, watcher):
        await c.close()

    server.stop()
    server.start()
    fresh = await synced_client(server.ws_url, review["id"], doc, watcher_token)
    assert str(fresh.doc.get("t", type=Text)) == "", "refused content was stored"
    await fresh.close()


async def test_read_only_client_resync_is_not_denied(server: ServerProcess) -> None:
    """An observer's usual sync step 2 (its copy of the doc, deletions included) is harmless."""
    review = await create_review(server.url)
    scribe = (await join(server.url, review["invites"]["scribe"]))["token"]
    observer = (await join(server.url, review["invites"]["observer"]))["token"]
    writer = await synced_client(server.ws_url, review["id"], "recap", scribe)
    text = writer.doc.get("t", type=Text)
    text.insert(0, "hello world")
    del text[0:6]
    first = await synced_client(server.ws_url, review["id"], "recap", observer)
    await first.wait_for(lambda: str(first.doc.get("t", type=Text)) == "world")
    # reconnect with the same doc: its step 2 carries a delete set the server already has
    again = YClient(server.ws_url, review["id"], "recap", observer)
    again.doc.apply_update(first.doc.get_update())
    await (await again.connect()).wait_synced()
    probe = await synced_client(server.ws_url, review["id"], "recap", observer)
    await probe.close()
    assert again.denied == []
    for c in (writer, first, again):
        await c.close()
