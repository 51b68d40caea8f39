"""The Starlette application; its lifespan owns storage, sessions and rooms."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route

from debrief.auth.sessions import SESSION, SessionService
from debrief.delivery.scheduler import Scheduler
from debrief.delivery.worker import Worker
from debrief.http import api
from debrief.http.direct_commands import DirectCommands
from debrief.http.errors import EXCEPTION_HANDLERS
from debrief.http.limits import BodyLimit
from debrief.http.openapi import command_routes, meeting_routes
from debrief.http.web import web_routes
from debrief.http.websocket import DocSockets
from debrief.loop_lag import LoopLag
from debrief.meeting.note_tally import NOTE_TALLY
from debrief.meeting.service import REVIEW
from debrief.metrics import Metrics
from debrief.rooms import RoomManager
from debrief.rooms.relay import Relay
from debrief.services import Services
from debrief.settings import Settings
from debrief.storage import Storage
from debrief.teams.migrate import migrate
from debrief.teams.service import TeamService

log = logging.getLogger(__name__)


def make_storage(settings: Settings) -> Storage:
    if settings.redis_url:
        from debrief.storage.redis import RedisStorage

        return RedisStorage(settings.redis_url, prefix=settings.redis_prefix)
    from debrief.storage.sqlite import SQLiteStorage

    return SQLiteStorage(
        settings.data_dir / "debrief.sqlite3",
        stall_s=settings.storage_stall_s,
        # read by every command (its caller's session and its review) or every note, and
        # written only by the server itself (the operator's command writes team records)
        cached_kinds=(SESSION, REVIEW, NOTE_TALLY),
    )


def make_relay(settings: Settings, storage: Storage) -> Relay | None:
    """Other processes serving the same docs: only with Redis (scale-out mode)."""
    if not settings.redis_url:
        return None
    from debrief.storage.redis import RedisStorage
    from debrief.storage.redis_relay import RedisRelay

    assert isinstance(storage, RedisStorage)
    return RedisRelay(storage, node_ttl_s=settings.node_ttl_s)


# Each step of a shutdown gets this long; a stuck one is logged and skipped so that the
# process still exits (nothing is lost: an update is appended before anyone sees it).
SHUTDOWN_STEP_S = 5.0


async def within(seconds: float, step: Awaitable[None], what: str) -> None:
    try:
        async with asyncio.timeout(seconds):
            await step
    except TimeoutError:
        log.warning("shutdown: %s took over %.0f s; going on without it", what, seconds)


def create_app(settings: Settings | None = None) -> DocSockets:
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        storage = make_storage(settings)
        await storage.open()
        # Stored data of an older release is brought forward before anything is served.
        teams = TeamService(storage, settings.resolve_secret(), settings.session_ttl_s)
        await migrate(storage, teams)
        metrics = Metrics()
        relay = make_relay(settings, storage)
        if relay is not None:
            await relay.start()
        rooms = RoomManager(
            storage,
            metrics,
            unload_grace_s=settings.unload_grace_s,
            compact_every=settings.compact_every,
            keepalive_s=settings.keepalive_s,
            relay=relay,
            write_limits=settings.write_limits(),
        )
        rooms.start()
        sessions = SessionService(storage, settings.resolve_secret(), settings.session_ttl_s)
        delivery = Worker(storage, settings)
        delivery.start()
        app.state.services = Services(settings, storage, sessions, rooms, metrics, teams, delivery)
        scheduler = Scheduler(app.state.services)  # reminders: a scan every tick
        scheduler.start()
        loop_lag = LoopLag(metrics.loop_lag)  # the stalls every request and update waits out
        loop_lag.start()
        try:
            yield
        finally:
            await within(SHUTDOWN_STEP_S, scheduler.stop(), "stopping the scheduler")
            await within(SHUTDOWN_STEP_S, delivery.stop(), "stopping the delivery worker")
            await within(SHUTDOWN_STEP_S, rooms.shutdown(), "flushing the rooms")
            if relay is not None:
                await within(SHUTDOWN_STEP_S, relay.stop(), "stopping the relay")
            await within(SHUTDOWN_STEP_S, storage.close(), "closing storage")
            await loop_lag.stop()

    routes: list[Route | Mount] = [
        *api.routes,
        *meeting_routes,
        *web_routes(settings),
    ]
    # Bodies are bounded inside Starlette (its middleware list), so that DocSockets
    # still hands websockets the Starlette app; the commands it serves directly get the
    # same middleware of their own (DirectCommands), so no HTTP request skips the limit.
    middleware = [Middleware(BodyLimit, settings=settings)]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=middleware,
    )
    return DocSockets(app, DirectCommands(app, command_routes, settings))
