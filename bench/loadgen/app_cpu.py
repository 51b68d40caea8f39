"""A note's cost inside the app alone: the ASGI app called in this process, no sockets.

`meeting_cpu` measures a real server under a real load generator, which is the figure
that counts; this takes uvicorn, the kernel and the generator out of it, so that what
is left is our own code and its storage threads, with far less noise between runs and
in a profile (``--profile``: cProfile, the calls and their costs; or run it under
``py-spy record``, whose samples are not slowed by the profiler).

Reviews are created and joined through the API; then ``--notes`` notes are posted by
``--concurrency`` tasks taking the participants in a shuffled order (as many reviews'
people post at once), each request a direct call of the app.

    .venv/bin/python -m bench.loadgen.app_cpu --notes 8000
    .venv/bin/python -m bench.loadgen.app_cpu --notes 8000 --frame-only   # the frame alone
    PYTHONPATH=/tmp/build-x/server .venv/bin/python -m bench.loadgen.app_cpu   # a build
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import uvloop

from debrief.app import create_app
from debrief.cli import set_switch_interval
from debrief.settings import Settings

NOTE = json.dumps({"kind": "worked-well", "text": "a note of some length, as people write"})
LIMITS = {  # one address sends everything here: the limits must not be what is measured
    "DEBRIEF_RATE_SESSION": "1000000/second",
    "DEBRIEF_RATE_IP": "1000000/second",
    "DEBRIEF_RATE_JOINS": "1000000/minute",
    "DEBRIEF_RATE_CREATES": "1000000/minute",
}


def note_scope(review_id: str, token: str, body: bytes) -> dict[str, Any]:
    path = f"/api/reviews/{review_id}/notes"
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 40000),
        "headers": [
            (b"host", b"127.0.0.1:8000"), (b"authorization", f"Bearer {token}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "state": {},
    }  # fmt: skip


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="debrief-app-cpu-") as data:
        await run_in(Path(data), args)


async def run_in(data: Path, args: argparse.Namespace) -> None:
    os.environ.update(LIMITS)
    settings = Settings(host="127.0.0.1", port=8000)
    settings.data_dir = data
    # as `debrief serve` sets it: the SQLite threads' turns at the GIL are part of the cost
    set_switch_interval(settings.switch_interval_ms)
    app = create_app(settings)
    starlette = app.app
    body = NOTE.encode()
    statuses: Counter[int] = Counter()

    async def post(review_id: str, token: str) -> None:
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # no disconnect while the app runs
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses[message["status"]] += 1

        await app(note_scope(review_id, token, body), receive, send)  # type: ignore[arg-type]

    async with starlette.router.lifespan_context(starlette):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        people: list[tuple[str, str]] = []
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
            for r in range(args.reviews):
                review = (await http.post("/api/reviews", json={"title": f"r{r}"})).json()
                for p in range(args.people):
                    joined = await http.post(
                        "/api/join",
                        json={"invite": review["invites"]["participant"], "name": f"p{r}.{p}"},
                    )
                    people.append((review["id"], joined.json()["token"]))
        random.Random(1).shuffle(people)

        async def worker(first: int) -> None:
            for i in range(first, args.notes, args.concurrency):
                await post(*people[i % len(people)])

        await asyncio.gather(*(post(*who) for who in people))  # warm: every room loaded
        if args.frame_only:
            answer_at_once()
        statuses.clear()
        profile = cProfile.Profile() if args.profile else None
        wall0, cpu0, loop0 = time.perf_counter(), time.process_time(), time.thread_time()
        if profile:
            profile.enable()
        await asyncio.gather(*(worker(i) for i in range(args.concurrency)))
        if profile:
            profile.disable()
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
        loop = time.thread_time() - loop0  # the event loop's thread; the rest is storage's
    print(
        f"{args.notes} notes in {wall:.2f} s: {args.notes / wall:,.0f}/s, "
        f"{1000 * cpu / args.notes:.3f} ms CPU per note (all threads; the loop's "
        f"{1000 * loop / args.notes:.3f}); statuses {dict(statuses)}"
    )
    if profile:
        profile.dump_stats(args.profile)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


def answer_at_once() -> None:
    """The note command's handler replaced by one that answers at once: what is left is
    the frame every command runs in (authentication, rate limits, the review's read and
    gate, the body, the answer), the least a command can cost in this design."""
    from debrief.http import notes_api

    command = next(c for c in notes_api.api.commands if c.handler is notes_api.submit_note)

    async def answer(call: Any, body: Any) -> dict[str, Any]:
        return {"id": "n_frame", "text": body.text, "kind": body.kind, "prompt": None,
                "revealed": False, "anonymous": True, "yours": True}  # fmt: skip

    command.handler = answer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notes", type=int, default=8000)
    ap.add_argument("--reviews", type=int, default=50)
    ap.add_argument("--people", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--profile", default="", help="a file: cProfile's stats go there")
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument(
        "--frame-only", action="store_true",
        help="the note's handler answers at once: the cost of the command frame alone",
    )  # fmt: skip
    uvloop.install()  # as uvicorn picks it
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
