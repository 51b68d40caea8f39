"""What one SQLite append costs inline on the event loop, on the writer thread, and
through the storage API, with each thread's CPU apart (``time.thread_time``).

Run by hand against any version of the server code (the one first on PYTHONPATH):

    .venv/bin/python bench/storage_hop.py [--appends 4000]

The inline figure is what the issue-15 floor does (its insert runs on the loop); the
writer thread keeps a frozen disk from stalling the loop, at the price shown here.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop

from debrief.storage import sqlite as sq
from debrief.storage.sqlite_thread import settled

UPDATE = os.urandom(100)
DOCS = 200


def _row(i: int) -> list[sq.Append]:
    return [(f"doc{i % DOCS}", UPDATE, [])]


Step = Callable[[int], Awaitable[object] | None]


async def _timed(name: str, n: int, step: Step, writer_cpu: Callable[[], float]) -> None:
    w0, c0, t0 = time.perf_counter(), time.thread_time(), writer_cpu()
    for i in range(n):
        pending = step(i)
        if pending is not None:
            await pending
    w1, c1, t1 = time.perf_counter(), time.thread_time(), writer_cpu()
    per = 1e6 / n
    print(
        f"| {name} | {(w1 - w0) * per:.1f} | {(c1 - c0) * per:.1f} | "
        + (f"{(t1 - t0) * per:.1f} |" if t1 != t0 else "- |")
    )


async def main(n: int) -> None:
    path = Path(tempfile.mkdtemp(prefix="debrief-hop-")) / "db.sqlite3"
    storage = sq.SQLiteStorage(path)
    await storage.open()
    writer = storage._writer
    assert writer is not None
    ident: list[int] = []
    await writer.run(lambda _db: ident.append(threading.get_native_id()))
    await storage.append_update("warm-up", UPDATE)

    def writer_cpu() -> float:  # the writer thread's CPU seconds, from /proc
        fields = Path(f"/proc/self/task/{ident[0]}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    inline = sq._connect(path)

    def on_the_loop(i: int) -> None:
        sq._append_batch(inline, _row(i))

    print("| an append | wall µs | loop CPU µs | writer thread CPU µs |")
    print("|---|---|---|---|")
    await _timed("inline on the loop", n, on_the_loop, writer_cpu)
    inline.close()
    await _timed(
        "on the writer thread, bare",
        n,
        lambda i: settled(writer.run(sq._append_batch, _row(i), after=sq._mark_read), 5),
        writer_cpu,
    )
    await _timed(
        "through append_update", n, lambda i: storage.append_update(f"doc{i % DOCS}", UPDATE),
        writer_cpu,
    )  # fmt: skip
    await storage.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--appends", type=int, default=4000)
    uvloop.run(main(ap.parse_args().appends))
