"""The floor for issue 15: the least a "post a note" endpoint can do on our stack.

A bare Starlette endpoint that checks a bearer token and inserts one SQLite row (WAL,
synchronous=NORMAL, as Debrief's store), served by uvicorn with the options `debrief serve`
uses (its httptools protocol with the header deadline, the same websocket settings). The
meeting bench drives it with the same load generator as Debrief's command path, in the
same run, so the ratio (ours / floor) carries from one machine to the next.

With ``--redis URL`` the note is one HSET instead, over the lean connection Debrief's
Redis backend uses (storage/resp.py): run as two processes beside two Debrief processes
on Redis, it is what that deployment shape costs before any of our work.

    python bench/loadgen/floor_app.py --port P --data DIR --tokens FILE [--redis URL]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from debrief.http.slowloris import header_deadline_protocol
from debrief.storage.resp import RespClient

FLOOR_PATH = "/floor/notes"


def create_app(db_path: Path, tokens: set[str], redis_url: str | None = None) -> Starlette:
    if redis_url is not None:
        return _redis_app(redis_url, tokens)
    db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, owner TEXT, body TEXT, ms INT)"
    )

    async def store(owner: str, body: bytes) -> int:
        cur = db.execute(
            "INSERT INTO notes (owner, body, ms) VALUES (?, ?, ?)",
            (owner, body.decode(), time.time_ns() // 1_000_000),
        )
        return int(cur.lastrowid or 0)

    async def healthy() -> bool:
        return True

    return _floor(tokens, store, healthy)


def _redis_app(redis_url: str, tokens: set[str]) -> Starlette:
    resp = RespClient(redis_url)
    ids = itertools.count(1)
    prefix = f"bench-floor:{os.getpid()}:"

    async def store(owner: str, body: bytes) -> int:
        note_id = next(ids)
        await resp.call(
            "HSET", f"{prefix}{note_id}",
            "owner", owner, "body", body, "ms", time.time_ns() // 1_000_000,
        )  # fmt: skip
        return note_id

    async def healthy() -> bool:
        return bool(await resp.call("PING") == b"PONG")

    return _floor(tokens, store, healthy)


def _floor(
    tokens: set[str],
    store: Callable[[str, bytes], Awaitable[int]],
    healthy: Callable[[], Awaitable[bool]],
) -> Starlette:
    """The endpoint: a known bearer token, then the note stored by ``store``."""

    async def post_note(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        if token not in tokens:
            return JSONResponse({"error": "unauthenticated"}, status_code=401)
        note_id = await store(token[:16], await request.body())
        return JSONResponse({"id": note_id}, status_code=201)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": await healthy()})

    return Starlette(
        routes=[
            Route(FLOOR_PATH, post_note, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--tokens", type=Path, required=True, help="JSON list of valid tokens")
    ap.add_argument("--redis", default=None, help="one HSET per note in this Redis instead")
    args = ap.parse_args()
    tokens = set(json.loads(args.tokens.read_text()))
    app = create_app(args.data / "floor.sqlite3", tokens, args.redis)
    config = uvicorn.Config(  # as debrief/cli.py serve
        app,
        host=args.host,
        port=args.port,
        http=header_deadline_protocol(10.0),
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
        lifespan="off",
        proxy_headers=False,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
