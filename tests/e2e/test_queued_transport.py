"""Under an ASGI websocket layer we cannot write raw frames to (uvicorn's legacy
``websockets`` implementation here), each peer gets a queue and a drain task instead:
the same sync, the same close codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from pycrdt import Text
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from debrief.app import create_app
from debrief.settings import Settings
from support.api import create_review, join
from support.server import free_port
from support.yclient import synced_client

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The `websockets` implementation is deprecated"),
]


@pytest.fixture
async def legacy_ws_server(tmp_path: Path) -> AsyncIterator[str]:
    settings = Settings(host="127.0.0.1", port=free_port())
    settings.data_dir = tmp_path
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets",  # not the sans-I/O protocol: no raw writes
        lifespan="on",
        log_level="warning",
    )
    config.load()
    assert config.ws_protocol_class is not WebSocketsSansIOProtocol  # the point of this test
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no event to wait on
        assert not task.done(), "server did not start"
        await asyncio.sleep(0.02)
    yield f"127.0.0.1:{settings.port}"
    server.should_exit = True
    await task


async def test_sync_and_close_codes_through_the_queue(legacy_ws_server: str) -> None:
    http, ws = f"http://{legacy_ws_server}", f"ws://{legacy_ws_server}"
    review = await create_review(http)
    invite = review["invites"]["participant"]
    a_tok, b_tok = [(await join(http, invite, name=n))["token"] for n in ("a", "b")]
    a = await synced_client(ws, review["id"], "timeline", a_tok)
    b = await synced_client(ws, review["id"], "timeline", b_tok)
    for i in range(200):  # enough frames that some wait in b's queue
        a.doc.get("t", type=Text).insert(len(str(a.doc.get("t", type=Text))), f"{i};")
    await b.wait_for(lambda: str(b.doc.get("t", type=Text)).endswith("199;"))
    assert str(b.doc.get("t", type=Text)) == str(a.doc.get("t", type=Text))
    await b.send_raw(b"\x00\x09")  # a sync message of an unknown type
    assert await b.wait_closed() == 1002
    a.doc.get("t", type=Text).insert(0, "still here;")  # a is unaffected
    late = await synced_client(ws, review["id"], "timeline", b_tok)
    await late.wait_for(lambda: str(late.doc.get("t", type=Text)).startswith("still here;"))
    await a.close()
    await late.close()
