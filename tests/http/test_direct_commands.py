"""Meeting commands come in straight from the ASGI entry (http/direct_commands.py): each
still gets the body limit and the app's error answers, and what is not a command (or
not in full: a wrong method) still goes through Starlette."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from debrief.http.commands import CommandRoutes
from debrief.http.direct_commands import DirectCommands
from debrief.http.errors import EXCEPTION_HANDLERS, ApiError
from debrief.http.websocket import DocSockets
from debrief.meeting.errors import Conflict
from debrief.settings import Settings
from debrief.storage.base import StorageUnavailable


class MarksStarlette:
    """A middleware of the Starlette app: its answers say they went through it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-starlette", b"1")]
            await send(message)

        await self.app(scope, receive, marked)


async def echo(request: Request) -> Response:
    body = await request.body()
    return JSONResponse({"review": request.path_params["review_id"], "size": len(body)})


async def refuse(request: Request) -> Response:
    raise ApiError(403, "forbidden", "not for you")


async def conflict(request: Request) -> Response:
    raise Conflict("the review is closed", error="review-closed")


async def storage_down(request: Request) -> Response:
    raise StorageUnavailable("storage is full", "full")


async def bug(request: Request) -> Response:
    raise RuntimeError("a bug")


async def elsewhere(request: Request) -> Response:
    return JSONResponse({"ok": True})


@pytest.fixture
async def entry() -> AsyncIterator[DocSockets]:
    commands = CommandRoutes([
        Route("/api/reviews/{review_id}/echo", echo, methods=["POST"]),
        Route("/api/reviews/{review_id}/refuse", refuse, methods=["POST"]),
        Route("/api/reviews/{review_id}/conflict", conflict, methods=["POST"]),
        Route("/api/reviews/{review_id}/storage", storage_down, methods=["POST"]),
        Route("/api/reviews/{review_id}/bug", bug, methods=["POST"]),
    ])  # fmt: skip
    app = Starlette(
        routes=[commands, Route("/api/elsewhere", elsewhere, methods=["POST"])],
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[Middleware(MarksStarlette)],
    )
    settings = Settings()
    settings.max_body_bytes = 1000
    yield DocSockets(app, DirectCommands(app, commands, settings))


def client(entry: DocSockets, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=entry, raise_app_exceptions=raise_app_exceptions)
    return httpx.AsyncClient(transport=transport, base_url="http://debrief")


async def test_a_command_skips_starlettes_stack_and_the_rest_does_not(entry: DocSockets) -> None:
    async with client(entry) as http:
        command = await http.post("/api/reviews/r1/echo", content=b"x" * 10)
        other = await http.post("/api/elsewhere")
    assert command.status_code == 200 and command.json() == {"review": "r1", "size": 10}
    assert "x-starlette" not in command.headers
    assert other.status_code == 200 and other.headers["x-starlette"] == "1"


async def test_a_wrong_method_is_starlettes_405(entry: DocSockets) -> None:
    async with client(entry) as http:
        answer = await http.get("/api/reviews/r1/echo")
    assert answer.status_code == 405 and answer.json()["error"] == "method-not-allowed"
    assert answer.headers["allow"] == "POST" and answer.headers["x-starlette"] == "1"


async def test_the_body_limit_holds(entry: DocSockets) -> None:
    async with client(entry) as http:
        declared = await http.post("/api/reviews/r1/echo", content=b"x" * 1001)

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as read
            for _ in range(3):
                yield b"x" * 400

        streamed = await http.post("/api/reviews/r1/echo", content=chunks())
        within = await http.post("/api/reviews/r1/echo", content=b"x" * 1000)
    for answer in (declared, streamed):
        assert answer.status_code == 413 and answer.json()["error"] == "body-too-large"
    assert within.status_code == 200 and within.json()["size"] == 1000


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("refuse", 403, "forbidden"),
        ("conflict", 409, "review-closed"),
        ("storage", 503, "storage-unavailable"),
    ],
)
async def test_refusals_get_the_apps_answers(
    entry: DocSockets, path: str, status: int, error: str
) -> None:
    async with client(entry) as http:
        answer = await http.post(f"/api/reviews/r1/{path}")
    assert answer.status_code == status and answer.json()["error"] == error
    assert "x-starlette" not in answer.headers


async def test_a_bug_is_answered_500_and_raised_for_the_server_to_log(entry: DocSockets) -> None:
    async with client(entry, raise_app_exceptions=False) as http:
        answer = await http.post("/api/reviews/r1/bug")
    assert answer.status_code == 500 and answer.json()["error"] == "internal"
    async with client(entry) as http:
        with pytest.raises(RuntimeError, match="a bug"):
            await http.post("/api/reviews/r1/bug")
