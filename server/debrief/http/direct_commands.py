"""Meeting commands straight from the ASGI entry to their endpoints.

Every note, vote and timer tick used to pass Starlette's whole stack on its way in: the
app, its error middleware, our body limit, its exception middleware, the router, the
route and its request wrapper, each an await and most a closure per request (about a
tenth of a note's server time in the bench profile). A command needs only three of
their jobs, done here in one frame: the body limit (`BodyLimit`, the same middleware,
so one rule for every route), the app's exception handlers (its own table, the same
lookup by the exception's class), and the scope keys a `Request` reads (``app``,
``router``). What `CommandRoutes` does not match in full -- a wrong method (405), any
other path -- still goes through Starlette.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from debrief.http.commands import CommandRoutes, chosen_route
from debrief.http.limits import BodyLimit
from debrief.settings import Settings


def handler_for(handlers: dict[Any, Any], exc: Exception) -> Any:
    """The handler for ``exc`` (by its class, most specific first), as Starlette looks it
    up; the app has one for every exception (``Exception``: the 500 answer)."""
    for cls in type(exc).__mro__:
        found = handlers.get(cls)
        if found is not None:
            return found
    raise AssertionError("the app has no handler for Exception")


class DirectCommands:
    """The command routes of ``app``, served without the rest of its stack."""

    def __init__(self, app: Starlette, routes: CommandRoutes, settings: Settings) -> None:
        self.app = app
        self.routes = routes
        self.handlers = app.exception_handlers
        self.limited = BodyLimit(self._serve, settings=settings)

    def direct(
        self, scope: Scope, receive: Receive, send: Send
    ) -> Coroutine[Any, Any, None] | None:
        """The coroutine that serves a command request, else None (Starlette's)."""
        if scope["type"] != "http":
            return None
        match, child = self.routes.matches(scope)
        if match is not Match.FULL:
            return None
        scope.update(child)
        scope["app"] = self.app
        scope["router"] = self.app.router
        return self.limited(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response: Response = await chosen_route(scope).endpoint(request)
        except Exception as exc:  # the endpoint only returns its answer: nothing sent yet
            handler = handler_for(self.handlers, exc)
            await (await handler(request, exc))(scope, receive, send)
            if handler is self.handlers[Exception]:
                raise  # a bug: answered, and the server logs it (as Starlette's stack does)
            exc.__traceback__ = None  # as Starlette: a reused exception keeps no history
            return
        await response(scope, receive, send)
