"""pycrdt's own websocket server (pycrdt-websocket) as an ASGI app on uvicorn, for the benchmarks.

Run: ``uvicorn --app-dir bench/competitors pycrdt_server:app --host 127.0.0.1 --port 1234``.
Every websocket path is a room (``ws://host:port/<docname>``); no auth, no persistence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pycrdt.websocket import ASGIServer, WebsocketServer

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

websocket_server = WebsocketServer(auto_clean_rooms=False)
_asgi = ASGIServer(websocket_server)


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """Run the pycrdt WebsocketServer for the lifetime of the ASGI app."""
    if scope["type"] != "lifespan":
        await _asgi(scope, receive, send)
        return
    async with websocket_server:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
