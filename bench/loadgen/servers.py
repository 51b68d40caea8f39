"""Start and stop the servers under test, each as a subprocess on a free loopback port."""

from __future__ import annotations

import os
import secrets
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
ALL_SERVERS: tuple[ServerKind, ...] = (
    "debrief",
    "debrief-redis",
    "y-websocket",
    "hocuspocus",
    "pycrdt",
    "relay-floor",
)
SCALEOUT: ServerKind = "debrief-redis"
SCALEOUT_PROCESSES = 2


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
    if kind in ("debrief", "debrief-redis"):
        if not debrief_executable().exists():
            return f"{debrief_executable()} missing"
        if kind == "debrief-redis" and shutil.which("redis-server") is None:
            return "redis-server not on PATH (apt-get install redis-server)"
        return None
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
        "relay-floor": COMPETITORS / "node_modules" / "ws",
    }[kind]
    return None if need.exists() else f"{need} missing (run npm ci in bench/competitors)"


@dataclass
class RunningServer:
    """The server processes under test (one, or one per port of a scale-out cluster)."""

    kind: ServerKind
    target: Target
    procs: list[subprocess.Popen[bytes]]  # index i serves target.ports[i]
    data_dir: Path | None
    log_paths: list[Path]
    redis: subprocess.Popen[bytes] | None = None  # scale-out: the throwaway Redis
    redis_url: str | None = None

    @property
    def pid(self) -> int:
        """The first server process (what the profiler samples)."""
        return self.procs[0].pid

    @property
    def pids(self) -> list[int]:
        """Every server process; CPU and RSS are summed over them (Redis not included)."""
        return [p.pid for p in self.procs]

    @property
    def redis_pid(self) -> int | None:
        return None if self.redis is None else self.redis.pid

    @property
    def log_path(self) -> Path:
        return self.log_paths[0]

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.procs) and (
            self.redis is None or self.redis.poll() is None
        )

    def exits(self) -> str:
        """Which processes have exited, and how (empty if all still run)."""
        gone = [
            f"{name} exited (code {proc.returncode})"
            for name, proc in self._named()
            if proc.poll() is not None
        ]
        return "; ".join(gone)

    def _named(self) -> list[tuple[str, subprocess.Popen[bytes]]]:
        many = len(self.procs) > 1
        named = [(f"server {i + 1}" if many else "server", p) for i, p in enumerate(self.procs)]
        return named + ([("redis", self.redis)] if self.redis is not None else [])

    def stop(self) -> None:
        for proc in self.procs:  # signal every server first, so they shut down side by side
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            _reap(proc, 15)
        if self.redis is not None:  # last: the servers may still talk to it while closing
            if self.redis.poll() is None:
                self.redis.send_signal(signal.SIGTERM)
            _reap(self.redis, 10)
        if self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def _reap(proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def _command(
    kind: ServerKind, port: int, data_dir: Path | None, redis_url: str | None = None
) -> list[str]:
    if kind in ("debrief", "debrief-redis"):
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
            *(["--redis", redis_url] if redis_url else []),
            "--log-level",
            "warning",
        ]
    if kind == "y-websocket":
        return ["node", str(COMPETITORS / "node_modules" / "y-websocket" / "bin" / "server.js")]
    if kind == "hocuspocus":
        return ["node", str(COMPETITORS / "hocuspocus-server.mjs")]
    if kind == "relay-floor":  # the fan-out floor: relays updates, keeps nothing else
        return ["node", str(COMPETITORS / "relay-floor.js")]
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
    for i, port in enumerate(server.target.ports):
        _wait_port(server, server.procs[i], port, deadline, timeout_s)


def _wait_port(
    server: RunningServer,
    proc: subprocess.Popen[bytes],
    port: int,
    deadline: float,
    timeout_s: float,
) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None or not server.alive():
            raise RuntimeError(f"{server.kind} exited at start-up; see {server.log_paths}")
        try:
            with socket.create_connection((HOST, port), timeout=1):
                pass
            if not server.target.debrief:
                return
            url = f"http://{HOST}:{port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{server.kind} not ready after {timeout_s}s; see {server.log_paths}")


# The bench is thousands of people on one IP, up to 1,000 in one review: lift the per-IP
# rates and per-review caps that protect a real server (settings.py). The environment
# still wins, to measure with the defaults. The write rates and the doc-size bound
# (DEBRIEF_WRITE_*, DEBRIEF_REVIEW_WRITE_*, DEBRIEF_MAX_DOC_BYTES) keep their defaults: every
# scenario writes far below them, and noisy-neighbour is about them.
BENCH_LIMITS = {
    "DEBRIEF_RATE_JOINS": "1000000/minute",
    "DEBRIEF_RATE_CREATES": "1000000/minute",
    "DEBRIEF_RATE_IP": "1000000/second",
    "DEBRIEF_MAX_ATTENDEES": "100000",
    "DEBRIEF_MAX_OBSERVERS": "100000",
}


def _server_env(port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in {**BENCH_LIMITS, **os.environ}.items() if k != "DEBRIEF_ADMIN_TOKEN"}
    env.update({"HOST": HOST, "PORT": str(port), **(extra or {})})
    return env


# Set by ``pin_cpus``: the CPUs every server (and its Redis) runs on.
_SERVER_CPUS: set[int] | None = None


def pin_cpus() -> None:
    """Servers on the first CPU this process may use; this process, and the generator
    processes it starts from now on, on the rest. Each side then has its own cores, as
    when the clients run on other machines: a server's latency is no longer partly the
    clients' turns on its core."""
    global _SERVER_CPUS
    if _SERVER_CPUS is not None:  # already pinned (main() calls itself for some scenarios)
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--pin needs at least 2 CPUs")
    _SERVER_CPUS = {cpus[0]}
    os.sched_setaffinity(0, set(cpus[1:]))


def on_server_cpus(cmd: list[str]) -> list[str]:
    """``cmd``, run on the servers' CPUs once ``pin_cpus`` was called (else as it is)."""
    if _SERVER_CPUS is None:
        return cmd
    return ["taskset", "-c", ",".join(map(str, sorted(_SERVER_CPUS))), *cmd]


def _spawn(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(
            on_server_cpus(cmd),
            env=env,
            cwd=str(COMPETITORS),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


def start(
    kind: ServerKind, log_dir: Path, timeout_s: float = 30.0, env: dict[str, str] | None = None
) -> RunningServer:
    """Start ``kind`` on a free port and wait until it accepts connections (``env``: extra
    variables for this one server, e.g. a scenario's setting)."""
    if kind == SCALEOUT:
        return start_cluster(log_dir, SCALEOUT_PROCESSES, timeout_s)
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="debrief-bench-")) if kind == "debrief" else None
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{kind}-{port}.log"
    proc = _spawn(_command(kind, port, data_dir), _server_env(port, env), log_path)
    server = RunningServer(kind, Target(kind, HOST, (port,)), [proc], data_dir, [log_path])
    try:
        _wait_ready(server, timeout_s)
    except Exception:
        server.stop()
        raise
    return server


def _redis_ready(port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited at start-up (code {proc.returncode})")
        try:
            with socket.create_connection((HOST, port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"redis-server on port {port} not ready after {timeout_s}s")


def start_cluster(log_dir: Path, processes: int = 2, timeout_s: float = 30.0) -> RunningServer:
    """A throwaway redis-server (no persistence) and ``processes`` `debrief serve --redis`
    processes sharing it, one signing key and one key prefix, each on its own free port."""
    log_dir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="debrief-bench-redis-"))
    redis_port = free_port()
    redis_log = log_dir / f"redis-{redis_port}.log"
    redis_cmd = [
        "redis-server",
        "--port",
        str(redis_port),
        "--bind",
        HOST,
        "--dir",
        str(data_dir),
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    redis = _spawn(redis_cmd, _server_env(redis_port), redis_log)
    ports: list[int] = []
    while len(ports) < processes:  # distinct, and not Redis's
        port = free_port()
        if port != redis_port and port not in ports:
            ports.append(port)
    target = Target("debrief-redis", HOST, tuple(ports))
    server = RunningServer("debrief-redis", target, [], data_dir, [redis_log], redis)
    try:
        _redis_ready(redis_port, redis, timeout_s)
        redis_url = server.redis_url = f"redis://{HOST}:{redis_port}/0"
        shared = {
            "DEBRIEF_SECRET_KEY": secrets.token_urlsafe(32),
            "DEBRIEF_REDIS_PREFIX": f"debrief-bench-{secrets.token_hex(4)}:",
        }
        for i, port in enumerate(ports):
            node_dir = data_dir / f"node{i}"
            node_dir.mkdir()
            log_path = log_dir / f"debrief-redis-{port}.log"
            env = _server_env(port) | shared
            cmd = _command("debrief-redis", port, node_dir, redis_url)
            server.procs.append(_spawn(cmd, env, log_path))
            server.log_paths.insert(i, log_path)
        _wait_ready(server, timeout_s)
    except Exception:
        server.stop()
        raise
    return server
