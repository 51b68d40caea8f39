"""Join-storm set-up: fill one doc with ~``seed_bytes`` of text and check the server holds it."""

from __future__ import annotations

import asyncio

from pycrdt import Doc, Text, TransactionEvent

from .client import BenchClient
from .plan import Workload
from .wire import create_update_message

CHUNK = 1024  # characters per insert (one paragraph of notes)
PER_UPDATE = 64  # inserts per transaction: ~64 KiB frames, under every server's frame limit
_WORDS = "the deploy paused while the on-call checked the queue depth and paged the owner "


def _paragraph(i: int) -> str:
    text = f"[{i:05d}] " + _WORDS * (CHUNK // len(_WORDS) + 1)
    return text[:CHUNK]


async def seed_doc(seeder: BenchClient, checker: BenchClient, wl: Workload) -> BenchClient | None:
    """Write the doc through ``seeder`` (kept open by the caller), then sync ``checker`` until
    it sees every byte. Returns the seeder, or ``None`` if the server never held the content."""
    if not await seeder.connect(wl.connect_timeout_s):
        return None
    assert seeder.doc is not None
    text = seeder.doc.get("notes", type=Text)
    updates: list[bytes] = []

    def capture(event: TransactionEvent) -> None:
        updates.append(event.update)

    sub = seeder.doc.observe(capture)
    paragraphs = max(1, wl.seed_bytes // CHUNK)
    for start in range(0, paragraphs, PER_UPDATE):
        with seeder.doc.transaction():
            for i in range(start, min(paragraphs, start + PER_UPDATE)):
                text += _paragraph(i)
        await seeder.send(create_update_message(updates[-1]))
    seeder.doc.unobserve(sub)

    want = paragraphs * CHUNK
    for _ in range(40):  # bounded: ~10 s
        if await checker.connect(wl.connect_timeout_s):
            got = checker.text_length("notes")
            await checker.close()
            if got >= want:
                return seeder
        checker.synced.clear()
        checker.doc = Doc()
        checker.closed = False
        await asyncio.sleep(0.25)
    return None
