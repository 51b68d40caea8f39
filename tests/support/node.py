"""Drive the stock Node `yjs` + `y-websocket` client (tests/e2e/node) from a test."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

NODE_DIR = Path(__file__).resolve().parents[1] / "e2e" / "node"


def ensure_node_deps() -> None:
    """Install the Node clients' npm dependencies once (npm ci from the lock file)."""
    if (NODE_DIR / "node_modules" / "y-websocket").exists():
        return
    npm = shutil.which("npm")
    assert npm, "npm is needed for the Node client tests"
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True)


class NodeClient:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self.latest_map: dict[str, Any] = {}

    @classmethod
    async def start(cls, ws_base: str, review_id: str, doc: str, token: str) -> NodeClient:
        ensure_node_deps()
        proc = await asyncio.create_subprocess_exec(
            "node",
            str(NODE_DIR / "sync_client.mjs"),
            ws_base,
            review_id,
            doc,
            token,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=NODE_DIR,
        )
        return cls(proc)

    async def next_event(self, kind: str, timeout: float = 20) -> dict[str, Any]:
        """Read events until one of ``kind`` arrives."""
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                line = await self.proc.stdout.readline()
                if not line:
                    raise EOFError("node client exited")
                event: dict[str, Any] = json.loads(line)
                self.events.append(event)
                if event["event"] in ("map", "synced"):
                    self.latest_map = event["value"]
                if event["event"] == kind:
                    return event

    async def wait_map(self, predicate: Any, timeout: float = 20) -> dict[str, Any]:
        """Wait until the shared map "m" (as last reported) satisfies ``predicate``."""
        async with asyncio.timeout(timeout):
            while not predicate(self.latest_map):
                await self.next_event("map", timeout)
        return self.latest_map

    async def command(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await self.proc.stdin.drain()

    async def stop(self) -> None:
        if self.proc.returncode is None:
            try:
                await self.command(quit=True)
                async with asyncio.timeout(10):
                    await self.proc.wait()
            except (TimeoutError, ConnectionError):
                self.proc.kill()
                await self.proc.wait()
