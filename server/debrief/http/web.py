"""Serves the built web app (web/dist) and its client-side routes.

Every page goes out with a strict Content-Security-Policy: scripts, styles and
connections only from this server, no inline script, nothing framed. The app renders
user text as text; the policy is the second line of defence.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from debrief.settings import Settings

NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Debrief</title>
<p>The web app is not built yet. Run <code>make serve</code>, which builds it.</p>"""

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Invite codes live in /j/<code>; never hand them to the sites of evidence links.
    # (same-origin, not no-referrer: our own POSTs must keep their Origin header.)
    "Referrer-Policy": "same-origin",
}


# Chunks (web/build.mjs) carry a hash of their content in their name: a browser may keep
# them. app.js, app.css and the favicon keep their names between builds: revalidate those.
HASHED_DIR = "chunks/"
CACHE_HASHED = "public, max-age=31536000, immutable"


class Assets(StaticFiles):
    """Built assets, cached by the browser for good when their name says their content."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        hashed = path.startswith(HASHED_DIR) and response.status_code == 200
        response.headers["Cache-Control"] = CACHE_HASHED if hashed else "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def web_routes(settings: Settings) -> list[Route | Mount]:
    dist: Path = settings.web_dist

    async def index(request: Request) -> Response:
        page = dist / "index.html"
        if page.exists():
            return FileResponse(page, headers=PAGE_HEADERS)
        return HTMLResponse(NOT_BUILT, headers=PAGE_HEADERS)

    return [
        Route("/", index),
        Route("/j/{code}", index),
        Route("/r/{review_id:path}", index),
        Route("/t/{team_id:path}", index),
        Route("/tj/{code}", index),
        Route("/p/{code}", index),
        Route("/u/{token}", index),  # unsubscribe: works without any session
        Mount("/assets", Assets(directory=dist / "assets", check_dir=False), name="assets"),
    ]
