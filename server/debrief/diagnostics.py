"""What a stuck server is doing, and a way out of a shutdown that hangs.

`kill -USR1 <pid>` prints what every thread and every asyncio task is doing.

For a server that does not stop or does not answer: the thread stacks come from
`faulthandler`, whose C-level handler works even when the main thread is stuck outside
Python; the task stacks come from a Python-level handler, which runs as soon as the
event loop's thread executes Python again.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import sys
import threading
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


def exit_if_still_running(seconds: float, loop: asyncio.AbstractEventLoop) -> threading.Timer:
    """Backstop for a shutdown that hangs: after ``seconds``, print the stacks and exit.

    Each step of the lifespan's shutdown has its own deadline, but a task that ignores
    its cancellation can still hold up asyncio's own clean-up after it. Exiting hard
    then loses nothing (every update is stored before anyone sees it), whereas a
    process that never exits holds its port and keeps a supervisor waiting.
    """

    def expire() -> None:
        print(
            f"diagnostics: shutdown still running after {seconds:g} s; exiting now",
            file=sys.stderr,
            flush=True,
        )
        done = threading.Event()

        def dump_and_signal() -> None:
            dump_tasks(0, None)
            done.set()

        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            loop.call_soon_threadsafe(dump_and_signal)
        done.wait(1.0)  # the loop may be blocked too: then threads only
        faulthandler.dump_traceback(all_threads=True)
        os._exit(1)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer
