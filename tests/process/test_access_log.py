"""uvicorn's access log: one line per request at info and below, no work at all above it
(uvicorn formats each line's client and quoted path before its logger drops the line)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from debrief.cli import access_log_wanted
from support.server import ServerProcess


@pytest.mark.parametrize(
    ("level", "wanted"),
    [("trace", True), ("debug", True), ("info", True), ("INFO", True),
     ("warning", False), ("error", False), ("critical", False)],
)  # fmt: skip
def test_wanted_only_where_it_would_print(level: str, wanted: bool) -> None:
    assert access_log_wanted(level) is wanted


@pytest.mark.parametrize(("level", "logged"), [("info", True), ("warning", False)])
def test_a_running_server_logs_requests_only_at_info(
    tmp_path: Path, level: str, logged: bool
) -> None:
    server = ServerProcess(tmp_path / "data", args=["--log-level", level]).start()
    try:
        assert httpx.get(f"{server.url}/api/reviews/r_nothing_here").status_code in (401, 404)
    finally:
        assert server.stop() == 0
    log = server.log_path.read_text()
    assert ('"GET /api/reviews/r_nothing_here HTTP/1.1" 40' in log) is logged, log[-2000:]
