"""Run ``debrief`` with a thread that writes where its memory is, for the soak (issue 14).

    DEBRIEF_BENCH_EXE=bench/heap-probe HEAP_PROBE_OUT=/tmp/heap.jsonl \
        bench/run --scenarios soak --cycles 60000

Every HEAP_PROBE_EVERY seconds (default 10) one JSON line: RSS and anonymous RSS (KiB,
from /proc), glibc's heap (``mallinfo2``: bytes taken from the system, in use, free
inside it, mmapped chunks), SQLite's own allocations (``sqlite3_memory_used``: its page
caches and statements), the gc-tracked Python objects by type (the 40 most common) and
pymalloc's allocated blocks. With HEAP_PROBE_TRIM=1 it also calls ``malloc_trim(0)``
before each sample (an experiment: does glibc give the free part back?).

Diagnostics for the bench only: the product does not load this.
"""

from __future__ import annotations

import collections
import ctypes
import gc
import json
import os
import sys
import threading
import time
from typing import Any


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _libc() -> Any:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    return libc


def _sqlite_memory_used() -> int:
    import _sqlite3  # the extension module links the libsqlite3 the server uses

    try:
        used = ctypes.CDLL(_sqlite3.__file__).sqlite3_memory_used
    except (OSError, AttributeError):
        return -1
    used.restype = ctypes.c_int64
    return int(used())


def _status_kib(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def sample(libc: Any) -> dict[str, Any]:
    heap = libc.mallinfo2()
    objects = gc.get_objects()
    by_type = collections.Counter(type(o).__name__ for o in objects)
    del objects
    return {
        "t": time.time(),
        "rss_kib": _status_kib("VmRSS"),
        "anon_kib": _status_kib("RssAnon"),
        "heap_system": heap.arena,
        "heap_in_use": heap.uordblks,
        "heap_free": heap.fordblks,
        "heap_mmapped": heap.hblkhd,
        "sqlite": _sqlite_memory_used(),
        "objects": sum(by_type.values()),
        "pymalloc_blocks": sys.getallocatedblocks(),
        "types": dict(by_type.most_common(40)),
    }


def _probe(out: str, every: float, trim: bool) -> None:
    libc = _libc()
    while True:
        time.sleep(every)
        if trim:
            libc.malloc_trim(0)
        with open(out, "a") as fh:
            fh.write(json.dumps(sample(libc)) + "\n")


def main() -> None:
    out = os.environ.get("HEAP_PROBE_OUT", "heap-probe.jsonl")
    every = float(os.environ.get("HEAP_PROBE_EVERY", "10"))
    trim = os.environ.get("HEAP_PROBE_TRIM") == "1"
    # Imported before the probe starts: `gc.get_objects()` from another thread can hand
    # out a tuple that `tuple(generator)` is still building, whose resize then fails
    # ("SystemError: bad argument to internal function"). Imports build most such
    # tuples (module-level constants); a server at work far fewer. Seen once in CI, in
    # an import.
    from debrief.cli import main as debrief_main

    threading.Thread(target=_probe, args=(out, every, trim), daemon=True).start()

    sys.argv[0] = "debrief"
    debrief_main()


if __name__ == "__main__":
    main()
