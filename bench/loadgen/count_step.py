"""What showing a hidden note's count costs: the note service in one process, its
count step swapped by turns.

A hidden note is stored with its review's tally; then everyone is shown how many notes
wait in each section (`MeetingService.show_note_counts`). To weigh that step,
`NoteService.submit` is called directly (no HTTP, no frame) by ``--concurrency`` tasks for
the participants of ``--reviews`` reviews, and the step is replaced by turns, ``--per``
notes at a time, in the same process, so that a slower minute of a shared box weighs on
every variant alike:

- ``awareness``: as shipped, the counts in the server's awareness entry of the room;
- ``none``: nobody is shown anything (the least a note can cost);
- ``doc``: the counts written into the room doc's `note_counts` map through the room, a
  durable doc edit, as before this version (which stored that edit with the note's
  records in one write; here it is a write of its own, a little dearer).

Printed: the event loop's CPU per note (the thread that bounds a command's throughput)
and all threads'.

    .venv/bin/python -m bench.loadgen.count_step --variants awareness,none,doc
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvloop
from pycrdt import Map

from debrief.app import create_app
from debrief.auth.roles import DocName, Role
from debrief.auth.sessions import Session
from debrief.cli import set_switch_interval
from debrief.meeting import notes
from debrief.meeting.note_tally import NoteTally
from debrief.meeting.service import MeetingService
from debrief.settings import Settings

from .app_cpu import LIMITS

ShowCounts = Callable[[MeetingService, str, NoteTally], Awaitable[None]]
SHIPPED: ShowCounts = MeetingService.show_note_counts


async def show_nothing(self: MeetingService, review_id: str, tally: NoteTally) -> None:
    return None


async def edit_the_doc(self: MeetingService, review_id: str, tally: NoteTally) -> None:
    counts = dict(tally.hidden)

    def change(doc: Any) -> None:
        shown = doc.get("note_counts", type=Map)
        for section, count in counts.items():
            if shown.get(section) != count:
                shown[section] = count

    await self.edit(review_id, DocName.ROOM, change, checked_under_lock=True)


VARIANTS: dict[str, ShowCounts] = {
    "awareness": SHIPPED,
    "none": show_nothing,
    "doc": edit_the_doc,
}


async def run(args: argparse.Namespace) -> None:
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}")
    os.environ.update(LIMITS)
    with tempfile.TemporaryDirectory(prefix="debrief-count-step-") as data:
        settings = Settings(host="127.0.0.1", port=8000)
        settings.data_dir = Path(data)
        set_switch_interval(settings.switch_interval_ms)  # as `debrief serve` sets it
        app = create_app(settings)
        starlette = app.app
        async with starlette.router.lifespan_context(starlette):
            await _measure(starlette, names, args)


async def _measure(starlette: Any, names: list[str], args: argparse.Namespace) -> None:
    transport = httpx.ASGITransport(app=starlette, client=("127.0.0.1", 40000))
    people: list[tuple[str, str]] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        for r in range(args.reviews):
            review = (await http.post("/api/reviews", json={"title": f"r{r}"})).json()
            people += [(review["id"], f"p{r}.{p}") for p in range(args.people)]
    meeting = starlette.state.meeting
    reviews = {rid: await meeting.review(rid) for rid, _ in people}
    sessions = [
        Session(session_id=f"s{name}", review_id=rid, role=Role.PARTICIPANT,
                participant_id=f"p_{name}", name=name, invite="", created_ms=0)
        for rid, name in people
    ]  # fmt: skip
    random.Random(1).shuffle(sessions)
    service = notes.NoteService(meeting, max_per_review=10**9)
    notes.MAX_NOTES_PER_PERSON = 10**9  # the caps are not what is measured

    async def post(i: int) -> None:
        session = sessions[i % len(sessions)]
        await service.submit(reviews[session.review_id], session, "worked-well",
                             "a note of some length, as people write")  # fmt: skip

    async def worker(first: int) -> None:
        for i in range(first, args.per, args.concurrency):
            await post(i)

    await asyncio.gather(*(post(i) for i in range(len(sessions))))  # warm: every room loaded
    loop_s = dict.fromkeys(names, 0.0)
    all_s = dict.fromkeys(names, 0.0)
    for turn in range(args.turns):
        for name in names if turn % 2 == 0 else names[::-1]:  # A B B A ...
            MeetingService.show_note_counts = VARIANTS[name]  # type: ignore[method-assign]
            loop0, all0 = time.thread_time(), time.process_time()
            await asyncio.gather(*(worker(k) for k in range(args.concurrency)))
            loop_s[name] += time.thread_time() - loop0
            all_s[name] += time.process_time() - all0
    MeetingService.show_note_counts = SHIPPED  # type: ignore[method-assign]
    count = args.turns * args.per
    for name in names:
        print(f"{name:8s} the loop {1000 * loop_s[name] / count:.3f} ms per note, "
              f"all threads {1000 * all_s[name] / count:.3f}")  # fmt: skip
    # every variant must have stored every note it was given, or its figure means nothing
    stored = sum([len(await service.records(rid)) for rid in reviews])
    print(f"stored {stored} of {len(sessions) + count * len(names)} notes")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variants", default="awareness,none,doc")
    ap.add_argument("--turns", type=int, default=8)
    ap.add_argument("--per", type=int, default=2000, help="notes per variant per turn")
    ap.add_argument("--reviews", type=int, default=50)
    ap.add_argument("--people", type=int, default=8)
    ap.add_argument("--concurrency", type=int, default=32)
    uvloop.install()  # as uvicorn picks it
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
