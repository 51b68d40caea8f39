"""`kill -USR1` makes a running server print its threads' and tasks' stacks, and go on."""

from __future__ import annotations

import signal
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
