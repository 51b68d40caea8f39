"""The sync core's HTTP API against a real server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from support.server import ServerProcess


async def test_create_join_and_cookie(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        created = await http.post("/api/reviews", json={"title": "  Launch review  "})
        assert created.status_code == 201
        body = created.json()
        assert body["title"] == "Launch review"
        assert set(body["invites"]) == {"moderator", "scribe", "participant", "observer"}
        codes = {url.rsplit("/j/", 1)[1] for url in body["invites"].values()}
        assert len(codes) == 4 and all(len(c) >= 20 for c in codes)
        joined = await http.post(
            "/api/join", json={"invite": body["invites"]["scribe"], "name": "Sam"}
        )
        assert joined.status_code == 200
        data = joined.json()
        assert data["role"] == "scribe" and data["review_id"] == body["id"]
        assert data["participant_id"] and data["token"]
        cookie = joined.headers["set-cookie"].lower()
        assert f"debrief_session_{body['id'].lower()}=" in cookie
        assert "httponly" in cookie and "samesite=lax" in cookie
        # a bare code works as well as the URL
        code = body["invites"]["observer"].rsplit("/", 1)[1]
        assert (await http.post("/api/join", json={"invite": code})).json()["role"] == "observer"


@pytest.mark.parametrize(("path", "body"), [("/api/reviews", {"title": "x"}),
                                            ("/api/teams", {"name": "x"})])  # fmt: skip
async def test_admin_token_guards_creation(tmp_path: Path, path: str, body: dict) -> None:
    server = ServerProcess(tmp_path / "d", env={"DEBRIEF_ADMIN_TOKEN": "s3cret"}).start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            refused = await http.post(path, json=body)
            assert refused.status_code == 401 and refused.json()["error"] == "admin-token-required"
            wrong = await http.post(path, json=body, headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            ok = await http.post(path, json=body, headers={"Authorization": "Bearer s3cret"})
            assert ok.status_code == 201
    finally:
        server.stop()


async def test_time_health_and_metrics(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        now = (await http.get("/api/time")).json()["now_ms"]
        assert isinstance(now, int) and now > 1_700_000_000_000
        assert (await http.get("/healthz")).json()["status"] == "ok"
        metrics = (await http.get("/metrics")).text
    for name in (
        "debrief_connections",
        "debrief_rooms",
        "debrief_updates_received_total",
        "debrief_updates_broadcast_total",
        "debrief_bytes_received_total",
        "debrief_bytes_sent_total",
        "debrief_broadcast_latency_seconds_bucket",
        "debrief_event_loop_lag_seconds_bucket",
    ):
        assert name in metrics
