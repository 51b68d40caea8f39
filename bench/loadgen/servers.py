"""Start and stop the servers under test, each as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .plan import ServerKind, Target

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
COMPETITORS = BENCH / "competitors"
HOST = "127.0.0.1"
ALL_SERVERS: tuple[ServerKind, ...] = ("debrief", "y-websocket", "hocuspocus", "pycrdt")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def debrief_executable() -> Path:
    """``debrief`` of this venv; DEBRIEF_BENCH_EXE may name another build to compare."""
    override = os.environ.get("DEBRIEF_BENCH_EXE")
    if override:
        return Path(override)
    venv = Path(sys.executable).parent / "debrief"
    return venv if venv.exists() else ROOT / ".venv" / "bin" / "debrief"


def available(kind: ServerKind) -> str | None:
    """``None`` if ``kind`` can be started here, else why not."""
    if kind == "debrief":
        return None if debrief_executable().exists() else f"{debrief_executable()} missing"
    if kind == "pycrdt":
        try:
            import pycrdt.websocket  # noqa: F401
        except ImportError:
            return "pip package pycrdt-websocket missing (pip install -r bench/requirements.txt)"
        return None
    if shutil.which("node") is None:
        return "node not on PATH"
    need = {
        "y-websocket": COMPETITORS / "node_modules" / "y-websocket" / "bin" / "server.js",
        "hocuspocus": COMPETITORS / "node_modules" / "@hocuspocus" / "server",
    }[kind]
    return None if need.exists() else f"{need} missing (run npm ci in bench/competitors)"


@dataclass
class RunningServer:
    kind: ServerKind
    target: Target
    proc: subprocess.Popen[bytes]
    data_dir: Path | None
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _command(kind: ServerKind, port: int, data_dir: Path | None) -> list[str]:
    if kind == "debrief":
        assert data_dir is not None
        # warning level like the pycrdt server below: per-connection INFO lines cost CPU
        return [
            str(debrief_executable()),
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--data",
            str(data_dir),
            "--log-level",
            "warning",
        ]
    if kind == "y-websocket":
        return ["node", str(COMPETITORS / "node_modules" / "y-websocket" / "bin" / "server.js")]
    if kind == "hocuspocus":
        return ["node", str(COMPETITORS / "hocuspocus-server.mjs")]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--app-dir",
        str(COMPETITORS),
        "pycrdt_server:app",
        "--host",
        HOST,
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]


def _wait_ready(server: RunningServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.kind} exited at start-up; see {server.log_path}")
        try:
            with socket.create_connection((HOST, server.target.port), timeout=1):
                pass
            if server.kind != "debrief":
                return
            url = f"{server.target.http_base}/healthz"
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.kind} not ready after {timeout_s}s; see {server.log_path}")


def start(kind: ServerKind, log_dir: Path, timeout_s: float = 30.0) -> RunningServer:
    """Start ``kind`` on a free port and wait until it accepts connections."""
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="debrief-bench-")) if kind == "debrief" else None
    env = {k: v for k, v in os.environ.items() if k != "DEBRIEF_ADMIN_TOKEN"}
    env.update({"HOST": HOST, "PORT": str(port)})
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{kind}-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            _command(kind, port, data_dir),
            env=env,
            cwd=str(COMPETITORS),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = RunningServer(kind, Target(kind, HOST, port), proc, data_dir, log_path)
    try:
        _wait_ready(server, timeout_s)
    except Exception:
        server.stop()
        raise
    return server
