"""`debrief team-links`: how an operator gets into the default team (real processes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from support.api import create_review
from support.server import ServerProcess
from support.teams import bearer, join_team_token


def team_links(data: Path, *extra: str) -> dict[str, str]:
    """Run the command as an operator would; role -> link."""
    done = subprocess.run(
        [sys.executable, "-m", "debrief.cli", "team-links", "--data", str(data), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "Default team (t_default)", done.stdout
    return dict(line.split() for line in lines[1:])  # type: ignore[misc]


async def test_the_printed_admin_link_opens_the_default_team(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = ServerProcess(data).start()
    try:
        review = await create_review(server.url, "Before anyone had the team")
        links = team_links(data, "--base-url", server.url)
        assert set(links) == {"admin", "member"}
        assert links["admin"].startswith(f"{server.url}/tj/")
        async with httpx.AsyncClient(base_url=server.url) as http:
            token = await join_team_token(http, links["admin"], "Operator")
            team = (await http.get("/api/teams/t_default", headers=bearer(token))).json()
            assert team["you"]["role"] == "admin"
            listed = await http.get("/api/teams/t_default/reviews", headers=bearer(token))
            assert [r["id"] for r in listed.json()["reviews"]] == [review["id"]]
            # the same links again, until one is replaced: then the old one's session ends
            assert team_links(data, "--base-url", server.url) == links
            rotated = team_links(data, "--base-url", server.url, "--rotate", "admin")
            assert rotated["admin"] != links["admin"] and rotated["member"] == links["member"]
            gone = await http.get("/api/teams/t_default", headers=bearer(token))
            assert gone.status_code == 401
    finally:
        server.stop()
