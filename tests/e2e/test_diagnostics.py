"""`kill -USR1` makes a running server print its threads' and tasks' stacks, and go on."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from support.server import ServerProcess, wait_until


async def test_sigusr1_prints_threads_and_tasks_and_the_server_carries_on(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path / "d").start()
    try:
        assert server.proc is not None
        server.proc.send_signal(signal.SIGUSR1)

        async def dumped() -> bool:
            return "Stack for <Task" in server.log_path.read_text(errors="replace")

        await wait_until(dumped)
        log = server.log_path.read_text(errors="replace")
        assert "Current thread" in log and "asyncio task(s)" in log
        assert "main_loop" in log or "serve" in log  # uvicorn's own task is listed
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.url + "/healthz")).status_code == 200
    finally:
        assert server.stop() == 0


STUCK_ON_THE_LOOP = """
import asyncio
from debrief import diagnostics

async def main():
    diagnostics.exit_if_still_running(0.3, asyncio.get_running_loop())
    await asyncio.Event().wait()  # a shutdown step that never ends

asyncio.run(main())
"""

LOOP_BLOCKED = """
import asyncio, time
from debrief import diagnostics

async def main():
    diagnostics.exit_if_still_running(0.3, asyncio.get_running_loop())
    time.sleep(3600)  # the loop itself is stuck

asyncio.run(main())
"""


def run_script(source: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", source], capture_output=True, timeout=60, check=False
    )


def test_a_shutdown_that_hangs_ends_with_exit_1_and_the_stacks() -> None:
    done = run_script(STUCK_ON_THE_LOOP)
    assert done.returncode == 1
    assert b"shutdown still running after 0.3 s; exiting now" in done.stderr
    assert b"Stack for <Task" in done.stderr  # the loop ran: the tasks are listed
    assert b"Current thread" in done.stderr or b"Thread 0x" in done.stderr


def test_a_blocked_loop_still_ends_with_the_threads_stacks() -> None:
    done = run_script(LOOP_BLOCKED)
    assert done.returncode == 1
    assert b"Stack for <Task" not in done.stderr
    assert b"time.sleep" in done.stderr or b"in main" in done.stderr
