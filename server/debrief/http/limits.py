"""Request bodies are bounded by the app itself: 413 before or while the body arrives.

A pure ASGI middleware (Starlette's BaseHTTPMiddleware would wrap every response in
tasks and streams). A declared Content-Length over the limit is refused before a byte
of the body is read; a body without one (chunked) is counted as it arrives and the
request fails at the first chunk past the limit, so the app never holds more than the
limit. What the client still sends after the answer is read and dropped by the server.
"""

from __future__ import annotations

import re

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from debrief.http.errors import ApiError, error_response
from debrief.settings import Settings

# Timeline files are far bigger than any other body (see Settings.max_import_bytes).
IMPORT_PATH = re.compile(r"/api/reviews/[^/]+/timeline/import")


def describe(size: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


class BodyTooLarge(ApiError):
    """Raised from `receive` inside the app when a streamed body passes the limit.

    An ApiError, so the app's own handler answers it wherever it surfaces; the
    middleware answers it too if it gets that far.
    """

    def __init__(self, limit: int) -> None:
        detail = f"the request body is larger than the limit of {describe(limit)}"
        super().__init__(413, "body-too-large", detail)


def too_large(limit: int) -> JSONResponse:
    return error_response(413, "body-too-large", BodyTooLarge(limit).detail)


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP parser refuses such a request itself
    return None


class BodyLimit:
    """ASGI middleware: DEBRIEF_MAX_BODY for every route, DEBRIEF_MAX_IMPORT_BODY for imports."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.max_bytes = settings.max_body_bytes
        self.max_import_bytes = settings.max_import_bytes

    def limit_for(self, path: str) -> int:
        return self.max_import_bytes if IMPORT_PATH.fullmatch(path) else self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:  # answered already (by the app's ApiError handler)
                raise
            await too_large(limit)(scope, receive, send)
