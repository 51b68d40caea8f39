"""Run `debrief serve` as a real process on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


# Every test client comes from 127.0.0.1, and scripts send commands back to back (or 50
# at once) far faster than people click: the whole suite is "one network" of very fast
# users. Rates are lifted here; the per-review caps keep their defaults, and
# tests/http/test_rate_limits.py sets small limits of its own to test each one.
TEST_LIMITS = {
    "DEBRIEF_RATE_JOINS": "100000/minute",
    "DEBRIEF_RATE_CREATES": "100000/minute",
    "DEBRIEF_RATE_BAD_INVITES": "100000/minute",
    "DEBRIEF_RATE_IP": "100000/second",
    "DEBRIEF_RATE_SESSION": "100000/second",
    # Tests that write megabytes on purpose (slow readers, big docs); the write rates and
    # the doc size bound have tests of their own with their own settings.
    "DEBRIEF_WRITE_RATE": "1e9",
    "DEBRIEF_WRITE_BURST": "1e9",
    "DEBRIEF_WRITE_UPDATES": "1e6",
    "DEBRIEF_REVIEW_WRITE_RATE": "1e9",
    "DEBRIEF_REVIEW_WRITE_BURST": "1e9",
    "DEBRIEF_REVIEW_WRITE_UPDATES": "1e6",
    "DEBRIEF_MAX_DOC_BYTES": str(256 * 1024 * 1024),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.env = {**os.environ, "DEBRIEF_UNLOAD_GRACE": "0.2", **TEST_LIMITS, **(env or {})}
        self.args = args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "debrief.cli",
                "serve",
                "--port",
                str(self.port),
                "--data",
                str(self.data_dir),
                "--log-level",
                "warning",
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=ROOT,
        )
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll the health endpoint until the server answers (or died)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise TimeoutError("server did not become ready")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 45) -> int:
        """Signal the server and wait for it. The default outlasts the server's own
        backstop (cli.SHUTDOWN_DEADLINE_S), so a hung shutdown shows as exit code 1."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.dump_stacks()
            self.proc.kill()
            self.proc.wait()
            tail = self.log_path.read_text(errors="replace")[-12000:]
            message = f"server did not stop in {timeout} s; its log ends:\n{tail}"
            raise AssertionError(message) from None

    def dump_stacks(self) -> None:
        """Have a stuck server print its threads' and tasks' stacks to its log."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGUSR1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)  # no event to wait on: the dump is written to a file

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


async def wait_until(predicate: Callable[[], Awaitable[bool]], timeout: float = 20.0) -> None:
    """Poll a condition that has no event to wait on (an HTTP status, a process)."""
    async with asyncio.timeout(timeout):
        while not await predicate():  # noqa: ASYNC110 - nothing to subscribe to
            await asyncio.sleep(0.05)
