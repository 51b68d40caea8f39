"""`debrief serve`: run the server with uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
from pathlib import Path

import uvicorn

from debrief import diagnostics, doctor
from debrief.app import SHUTDOWN_STEP_S, create_app
from debrief.http.slowloris import header_deadline_protocol
from debrief.settings import Settings

# uvicorn's graceful shutdown (open connections), then the lifespan's three steps (each
# app.SHUTDOWN_STEP_S), and a little for asyncio's and the interpreter's own clean-up.
GRACEFUL_SHUTDOWN_S = 10
SHUTDOWN_DEADLINE_S = GRACEFUL_SHUTDOWN_S + 3 * SHUTDOWN_STEP_S + 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="debrief", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the Debrief server")
    serve.add_argument("--host", default=os.environ.get("DEBRIEF_HOST", "127.0.0.1"))
    serve.add_argument("--port", type=int, default=int(os.environ.get("DEBRIEF_PORT", "8000")))
    serve.add_argument("--data", type=Path, default=None, help="data directory (SQLite file)")
    serve.add_argument("--redis", default=None, help="redis://host:6379/0 for scale-out mode")
    serve.add_argument("--log-level", default=os.environ.get("DEBRIEF_LOG_LEVEL", "info"))
    doctor.add_parser(commands)
    return parser


def serve(args: argparse.Namespace) -> None:
    settings = Settings(host=args.host, port=args.port)
    if args.data is not None:
        settings.data_dir = args.data
    if args.redis:
        settings.redis_url = args.redis
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # uvicorn's httptools protocol, with a deadline for request headers (slow-loris).
        http=header_deadline_protocol(settings.header_timeout_s),
        # The sans-I/O protocol is what the fan-out fast path writes through.
        ws="websockets-sansio",
        ws_max_size=settings.max_frame_bytes,
        # Compression would run once per peer per frame, undoing encode-once fan-out.
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level=args.log_level,
        lifespan="on",
        # X-Forwarded-For is trusted only with DEBRIEF_TRUST_PROXY (http/ratelimit.py)
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    # uvicorn re-raises the captured SIGTERM after its graceful shutdown; with this
    # handler in place that re-raise is a no-op and a clean stop exits 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    diagnostics.install()
    BoundedShutdownServer(config).run()


class BoundedShutdownServer(uvicorn.Server):
    """uvicorn's server, with a backstop that ends a shutdown which hangs (diagnostics)."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        diagnostics.exit_if_still_running(SHUTDOWN_DEADLINE_S, asyncio.get_running_loop())
        await super().shutdown(sockets)


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        serve(args)
    elif args.command == "doctor":
        raise SystemExit(doctor.run(args))


if __name__ == "__main__":
    main()
