"""`debrief serve`: run the server with uvicorn; backup, restore, doctor and team-links."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import uvicorn

from debrief import diagnostics, doctor
from debrief.app import SHUTDOWN_STEP_S, create_app
from debrief.gc_schedule import GcSchedule
from debrief.http.slowloris import header_deadline_protocol
from debrief.http.ws_protocol import LeanWebSocketProtocol
from debrief.settings import Settings
from debrief.storage import backup
from debrief.teams import operator

# uvicorn's graceful shutdown (open connections), then the lifespan's five steps (each
# app.SHUTDOWN_STEP_S), and a little for asyncio's and the interpreter's own clean-up.
GRACEFUL_SHUTDOWN_S = 10
SHUTDOWN_DEADLINE_S = GRACEFUL_SHUTDOWN_S + 5 * SHUTDOWN_STEP_S + 5


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
    add_backup_parsers(commands)
    operator.add_parser(commands)
    return parser


BACKUP_HELP = """\
Write everything the server stores to one file, while the server runs.

SQLite (the default): SQLite's online backup copies the database as of one instant; the
file also holds the signing key from the data directory (secret.key), so keep it as
private as the data itself.
Redis (--redis, or DEBRIEF_REDIS_URL): every key under the prefix, read in one atomic
step, during which Redis serves nobody else (200 MB of Redis took about 3 s on 2
shared cores; past 5 s the servers get errors and refuse writes). For large data use
Redis's own persistence instead: `redis-cli BGSAVE`, wait until `redis-cli LASTSAVE`
changes, then copy dump.rdb (from `redis-cli CONFIG GET dir`) elsewhere; see
deploy/README.md.
"""

RESTORE_HELP = """\
Put a backup written by `debrief backup` back. Stop every server using the target
first: restore refuses to write under a running one. A target that already holds
data is only replaced with --force.
"""


def add_backup_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    out = commands.add_parser(
        "backup",
        help="back up the whole server to a file",
        description=BACKUP_HELP,
        formatter_class=formatter,
    )
    out.add_argument("out", type=Path, help="the file to write (replaced if it exists)")
    add_target_options(out)
    into = commands.add_parser(
        "restore", help="restore a backup", description=RESTORE_HELP, formatter_class=formatter
    )
    into.add_argument("source", type=Path, help="a file written by `debrief backup`")
    add_target_options(into)
    into.add_argument("--force", action="store_true", help="replace data already there")


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """Where the data is: the same settings (flags, else DEBRIEF_* variables) as serve."""
    parser.add_argument("--data", "--data-dir", type=Path, default=None, help="data directory")
    parser.add_argument("--redis", default=None, help="redis://host:6379/0 in scale-out mode")
    parser.add_argument("--redis-prefix", default=None, help="key prefix (default: debrief:)")


def run_backup(args: argparse.Namespace) -> int:
    settings = Settings()
    if args.data is not None:
        settings.data_dir = args.data
    if args.redis:
        settings.redis_url = args.redis
    if args.redis_prefix is not None:
        settings.redis_prefix = args.redis_prefix
    if args.data is not None and settings.redis_url:
        print("debrief: give either --data (SQLite) or --redis, not both")
        return 2
    try:
        if args.command == "backup":
            if settings.redis_url:
                done = backup.backup_redis(settings.redis_url, settings.redis_prefix, args.out)
            else:
                done = backup.backup_sqlite(settings.data_dir, args.out)
            print(f"backed up {done} to {args.out}")
        else:
            if settings.redis_url:
                done = backup.restore_redis(
                    args.source, settings.redis_url, settings.redis_prefix, force=args.force
                )
                where = f"{settings.redis_url} prefix {settings.redis_prefix!r}"
            else:
                done = backup.restore_sqlite(args.source, settings.data_dir, force=args.force)
                where = str(settings.data_dir)
            print(f"restored {done} into {where}")
    except backup.BackupError as exc:
        print(f"debrief {args.command}: {exc}")
        return 1
    return 0


def serve(args: argparse.Namespace) -> None:
    settings = Settings(host=args.host, port=args.port)
    if args.data is not None:
        settings.data_dir = args.data
    if args.redis:
        settings.redis_url = args.redis
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s %(message)s")
    set_switch_interval(settings.switch_interval_ms)
    config = uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        # uvicorn's httptools protocol, with a deadline for request headers (slow-loris).
        http=header_deadline_protocol(settings.header_timeout_s),
        # uvicorn's sans-I/O websocket protocol, slimmed for idle connections
        # (http/ws_protocol.py); the fan-out fast path writes through it.
        ws=LeanWebSocketProtocol,
        ws_max_size=settings.max_frame_bytes,
        # Compression would run once per peer per frame, undoing encode-once fan-out.
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level=args.log_level,
        access_log=access_log_wanted(args.log_level),
        lifespan="on",
        # X-Forwarded-For is trusted only with DEBRIEF_TRUST_PROXY (http/ratelimit.py)
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    # uvicorn re-raises the captured SIGTERM after its graceful shutdown; with this
    # handler in place that re-raise is a no-op and a clean stop exits 0.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    diagnostics.install()
    if settings.gc_freeze:
        GcSchedule(settings.gc_thaw_s).install()
    BoundedShutdownServer(config).run()


def access_log_wanted(log_level: str) -> bool:
    """uvicorn formats each access line's client and quoted path before the logger
    drops it; from warning up nothing would print, so it should not log at all."""
    return log_level.lower() in ("trace", "debug", "info")


def set_switch_interval(ms: float) -> None:
    """Let a thread waiting for the GIL (SQLite's writer) have it within ``ms``."""
    if not 0 < ms <= 100:
        raise SystemExit(
            f"debrief: DEBRIEF_SWITCH_INTERVAL_MS must be above 0 and at most 100, not {ms}"
        )
    sys.setswitchinterval(ms / 1000)


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
    elif args.command in ("backup", "restore"):
        raise SystemExit(run_backup(args))
    elif args.command == "team-links":
        raise SystemExit(operator.run(args))


if __name__ == "__main__":
    main()
