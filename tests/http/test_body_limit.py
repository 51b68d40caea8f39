"""Request bodies are bounded by the app: 413 JSON, and memory stays flat under floods."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from support.api import create_review, join, participant_review
from support.server import ServerProcess

KIB = 1024
MIB = 1024 * KIB
DEFAULT_LIMIT = 256 * KIB
CHUNK = 64 * KIB


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    sent: int  # body bytes the client managed to write before it stopped

    def json(self) -> Any:
        return json.loads(self.body)


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def post_raw(
    port: int,
    path: str,
    size: int,
    *,
    chunked: bool,
    headers: dict[str, str] | None = None,
    send_body: bool = True,
    midway: asyncio.Event | None = None,
    go_on: asyncio.Event | None = None,
) -> Answer:
    """POST `size` bytes, declared (Content-Length) or chunked, until the server answers.

    The body goes out while the answer is awaited: a server that refuses early is heard
    at once. `midway` is set after the first chunk; then `go_on` is awaited, if given.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n{extra}\r\n".encode()
    )
    sent = 0

    async def write_body() -> None:
        nonlocal sent
        piece = b" " * CHUNK
        while sent < size:
            part = piece[: min(CHUNK, size - sent)]
            writer.write(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            await writer.drain()
            sent += len(part)
            if midway is not None and not midway.is_set():
                midway.set()
                if go_on is not None:
                    await go_on.wait()
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    writing = asyncio.create_task(write_body()) if send_body else None
    try:
        status, answer_headers, body = await asyncio.wait_for(read_answer(reader), 120)
    finally:
        if writing is not None:
            writing.cancel()
            await asyncio.gather(writing, return_exceptions=True)  # reset or cancelled
        writer.close()
    return Answer(status, answer_headers, body, sent)


def assert_too_large(answer: Answer) -> None:
    assert answer.status == 413, answer
    assert answer.headers["content-type"].startswith("application/json")
    data = answer.json()
    assert data["error"] == "body-too-large"
    assert "larger than" in data["detail"]


# /api/join passes Starlette's stack; a meeting command comes in straight from the ASGI
# entry (http/direct_commands.py): the same limit holds on both ways in.
PATHS = pytest.mark.parametrize("path", ["/api/join", "/api/reviews/r_none/notes"])


@PATHS
async def test_declared_length_refused_before_the_body(server: ServerProcess, path: str) -> None:
    # Not a byte of the 50 MB is sent: the server answers from the header alone.
    answer = await post_raw(server.port, path, 50 * MIB, chunked=False, send_body=False)
    assert_too_large(answer)
    assert "256 KiB" in answer.json()["detail"]


async def test_chunked_body_refused_as_it_passes_the_limit(server: ServerProcess) -> None:
    answer = await post_raw(server.port, "/api/join", 50 * MIB, chunked=True)
    assert_too_large(answer)
    # a command reads its body once the caller is known (else 401 before any of it)
    review, token = await participant_review(server.url)
    answer = await post_raw(
        server.port, f"/api/reviews/{review['id']}/notes", 50 * MIB, chunked=True,
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert_too_large(answer)


async def test_bodies_within_the_limit_are_read(server: ServerProcess) -> None:
    # Just under the limit in both framings: read whole, then judged as JSON (400), not 413.
    for chunked in (False, True):
        answer = await post_raw(server.port, "/api/join", DEFAULT_LIMIT, chunked=chunked)
        assert answer.status == 400 and answer.json()["error"] == "bad-json"


async def test_others_are_served_while_a_big_body_streams(server: ServerProcess) -> None:
    review = await create_review(server.url)
    midway, go_on = asyncio.Event(), asyncio.Event()
    big = asyncio.create_task(
        post_raw(server.port, "/api/join", 50 * MIB, chunked=True, midway=midway, go_on=go_on)
    )
    await midway.wait()
    joined = await join(server.url, review["invites"]["participant"], "Ana")  # asserts 200
    assert joined["name"] == "Ana"
    go_on.set()
    assert_too_large(await big)


def rss_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.M)}


async def test_memory_stays_flat_under_eight_50mb_bodies(server: ServerProcess) -> None:
    assert server.proc is not None
    before = rss_kib(server.proc.pid)
    floods = [post_raw(server.port, "/api/join", 50 * MIB, chunked=i % 2 == 0) for i in range(8)]
    answers = await asyncio.gather(*floods)
    for answer in answers:
        assert_too_large(answer)
    after = rss_kib(server.proc.pid)
    growth_mib = (after["VmHWM"] - before["VmRSS"]) / 1024
    print(f"RSS before {before['VmRSS'] / 1024:.1f} MiB, peak after {after['VmHWM'] / 1024:.1f}"
          f" MiB (growth {growth_mib:.1f} MiB), now {after['VmRSS'] / 1024:.1f} MiB")  # fmt: skip
    assert growth_mib < 200  # on main this was 1.5 GiB: every body was held whole
    assert server.proc.poll() is None
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/healthz")).status_code == 200


@pytest.fixture
def small_limits(tmp_path: Path) -> Any:
    env = {"DEBRIEF_MAX_BODY": str(64 * KIB), "DEBRIEF_MAX_IMPORT_BODY": str(1 * MIB)}
    proc = ServerProcess(tmp_path / "small", env=env).start()
    try:
        yield proc
    finally:
        proc.stop()


async def test_timeline_import_has_its_own_larger_limit(small_limits: ServerProcess) -> None:
    server = small_limits
    review, token = await participant_review(server.url)
    path = f"/api/reviews/{review['id']}/timeline/import"
    rows = "".join(f"2024-05-01T09:{i % 60:02d}:00Z,event {i}\n" for i in range(4_000))
    content = "time,text\n" + rows
    assert 64 * KIB < len(content) < 1 * MIB
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
        auth = {"Authorization": f"Bearer {token}"}
        ok = await http.post(path, json={"content": content}, headers=auth)
        assert ok.status_code == 201, ok.text
        assert ok.json()["imported"] == 4_000
        # The same size anywhere else is refused; the import past its own limit too.
        note = await http.post(
            f"/api/reviews/{review['id']}/notes", json={"text": content}, headers=auth
        )
        assert note.status_code == 413 and note.json()["error"] == "body-too-large"
        huge = await http.post(path, json={"content": content * 10}, headers=auth)
        assert huge.status_code == 413 and "1 MiB" in huge.json()["detail"]


async def test_over_long_fields_are_refused_at_the_edge(server: ServerProcess) -> None:
    review = await create_review(server.url)
    moderator = await join(server.url, review["invites"]["moderator"], "Mo")
    base = f"/api/reviews/{review['id']}"
    auth = {"Authorization": f"Bearer {moderator['token']}"}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        # Public and unauthenticated: a 60,000-character owner once froze the server for 9 s.
        lint = await http.post(
            "/api/lint/actions", json={"actions": [{"what": "Add alert", "owner": "a " * 30_000}]}
        )
        assert lint.status_code == 422, lint.text
        assert lint.json()["error"] == "invalid-fields"
        assert lint.json()["detail"][0]["field"] == "actions.0.owner"
        cases = [
            ("POST", "/votes", {"target": "n_" * 50_000}, "target"),
            ("PUT", "/agenda/order", {"order": ["opening"] * 10_000}, "order"),
            ("POST", "/agenda/phases", {"title": "t" * 5_000, "minutes": 5}, "title"),
            ("POST", "/timer/extend", {"minutes": 1e308}, "minutes"),  # was a 500
            ("POST", "/actions", {"owner": "o" * 5_000}, "owner"),
            ("POST", "/notes", {"text": "n" * 100_000}, "text"),
        ]
        for method, path, body, field in cases:
            answer = await http.request(method, base + path, json=body, headers=auth)
            assert answer.status_code == 422, (path, answer.text)
            assert answer.json()["error"] == "invalid-fields", (path, answer.text)
            assert answer.json()["detail"][0]["field"] == field
    assert server.proc is not None and server.proc.poll() is None
