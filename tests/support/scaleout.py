"""Scale-out test helpers: server processes sharing Redis, a throwaway Redis, nginx."""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import shutil
import subprocess
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import redis

from support.server import ROOT, ServerProcess, free_port
from support.yclient import YClient

SHARED_REDIS = "redis://127.0.0.1:6379/0"


def drop_prefix(url: str, prefix: str) -> None:
    """Delete every key a test left under its prefix."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        names = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(names), 500):
            client.unlink(*names[start : start + 500])
    finally:
        client.close()


class Cluster:
    """``count`` `debrief serve --redis` processes with one prefix and one secret."""

    def __init__(self, base: Path, count: int, redis_url: str = SHARED_REDIS) -> None:
        self.redis_url = redis_url
        self.prefix = f"debrief-test-{secrets.token_hex(4)}:"
        env = {
            "DEBRIEF_REDIS_PREFIX": self.prefix,
            "DEBRIEF_SECRET_KEY": secrets.token_urlsafe(32),
            "DEBRIEF_NODE_TTL": "2",
        }
        self.servers = [
            ServerProcess(base / f"node{i}", env=env, args=["--redis", redis_url])
            for i in range(count)
        ]

    def start(self) -> Cluster:
        try:
            with ThreadPoolExecutor(len(self.servers)) as pool:  # they boot side by side
                list(pool.map(ServerProcess.start, self.servers))
        except BaseException:
            self.stop()  # one that booted (or is booting) must not outlive the test
            raise
        return self

    def stop(self) -> None:
        running = [s for s in self.servers if s.proc is not None and s.proc.poll() is None]
        with ThreadPoolExecutor(max(len(running), 1)) as pool:
            codes = list(pool.map(ServerProcess.stop, running))
        for server, code in zip(running, codes, strict=True):
            if code != 0:  # teardown: say so, with the log, without failing the test
                tail = server.log_path.read_text(errors="replace")[-6000:]
                message = f"server {server.port} exited {code}; its log ends:\n{tail}"
                warnings.warn(message, stacklevel=2)
        with contextlib.suppress(redis.ConnectionError):
            drop_prefix(self.redis_url, self.prefix)

    def __getitem__(self, index: int) -> ServerProcess:
        return self.servers[index]


class ThrowawayRedis:
    """A private redis-server on a free port (AOF, fsync always), restartable in place."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> ThrowawayRedis:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        try:
            while True:
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise
                time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


NGINX_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class Nginx:
    """Debian's nginx with deploy/nginx.conf, rendered for the given upstream ports."""

    def __init__(self, work: Path, upstream_ports: list[int]) -> None:
        self.work = work
        self.port = free_port()
        self.upstream_ports = upstream_ports
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def binary() -> str | None:
        return shutil.which("nginx") or (
            "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
        )

    def render(self) -> Path:
        text = (ROOT / "deploy" / "nginx.conf").read_text()
        servers = "".join(f"        server 127.0.0.1:{p};\n" for p in self.upstream_ports)
        text, count = re.subn(r"(?m)^\s*server debrief\d+:\d+[^\n]*\n", "", text)
        assert count, "deploy/nginx.conf lost its `server debriefN:8000` lines"
        text = text.replace("upstream debrief {\n", "upstream debrief {\n" + servers)
        text, count = re.subn(r"(?m)^(\s*)listen 80;", rf"\1listen 127.0.0.1:{self.port};", text)
        assert count == 1, "deploy/nginx.conf lost its `listen 80;` line"
        temp = "".join(f"    {d}_temp_path {self.work}/{d};\n" for d in NGINX_TEMP_DIRS)
        mime = "include /etc/nginx/mime.types;\n"
        text = text.replace(mime, mime + temp, 1)
        text = text.replace("access_log /dev/stdout;", f"access_log {self.work}/access.log;")
        path = self.work / "nginx.conf"
        path.write_text(text)
        return path

    def start(self) -> Nginx:
        binary = self.binary()
        assert binary is not None
        self.work.mkdir(parents=True, exist_ok=True)
        config = self.render()
        directives = f"daemon off; pid {self.work}/nginx.pid; error_log {self.work}/error.log;"
        log = (self.work / "stderr.log").open("ab")
        self.proc = subprocess.Popen(
            [binary, "-c", str(config), "-p", str(self.work), "-g", directives],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).is_success:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                error = (
                    (self.work / "error.log").read_text()
                    if (self.work / "error.log").exists()
                    else ""
                )
                raise RuntimeError(f"nginx did not come up: {error[-2000:]}")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


async def reconnect(client: YClient, ws_url: str, review_id: str, doc: str) -> YClient:
    """Reconnect ``client`` (same Yjs doc and client id) to another server's URL."""
    await client.close()
    client.url = f"{ws_url}/ws/{review_id}/{doc}"
    client.synced = asyncio.Event()
    client.closed = asyncio.Event()
    client.close_code = None
    await client.connect()
    return await client.wait_synced()
