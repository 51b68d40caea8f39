"""`kill -USR1 <pid>`: print what every thread and every asyncio task is doing.

For a server that does not stop or does not answer: the thread stacks come from
`faulthandler`, whose C-level handler works even when the main thread is stuck outside
Python; the task stacks come from a Python-level handler, which runs as soon as the
event loop's thread executes Python again.
"""

from __future__ import annotations

import asyncio
import faulthandler
import signal
import sys
from types import FrameType


def dump_tasks(signum: int, frame: FrameType | None) -> None:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        print("diagnostics: no event loop is running", file=sys.stderr, flush=True)
        return
    tasks = asyncio.all_tasks(loop)
    print(f"diagnostics: {len(tasks)} asyncio task(s)", file=sys.stderr, flush=True)
    for task in tasks:
        task.print_stack(limit=12, file=sys.stderr)
    sys.stderr.flush()


def install() -> None:
    signal.signal(signal.SIGUSR1, dump_tasks)
    faulthandler.register(signal.SIGUSR1, all_threads=True, chain=True)
