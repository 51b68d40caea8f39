"""Serves the built web app (web/dist) and its client-side routes."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from debrief.settings import Settings

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Debrief</title>
<p>The web app is not built yet. Run <code>make serve</code>, which builds it.</p>"""


def web_routes(settings: Settings) -> list[Route | Mount]:
    dist: Path = settings.web_dist

    async def index(request: Request) -> Response:
        page = dist / "index.html"
        if page.exists():
            return FileResponse(page, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(NOT_BUILT)

    return [
        Route("/", index),
        Route("/j/{code}", index),
        Route("/r/{review_id:path}", index),
        Mount("/assets", StaticFiles(directory=dist / "assets", check_dir=False), name="assets"),
    ]
