"""`durability`: kill -9 a SQLite-backed server ``rounds`` times under ``writers`` writers and
check that every entry any client had seen before each kill is stored after the restart.

Durable before visible is Debrief's promise: the server relays an update only once it is
committed, so whatever a client saw must survive the process dying right after. Each writer
(a participant) appends ``w<i>-<n>`` to the Array ``log`` of one review's ``timeline`` at
``rate_hz``; an observer (who may not write, so nothing it holds can flow back in through
its resync) applies everything it receives to a real pycrdt doc. Each round: wait until the
observer has seen ``min_seen`` new entries, wait a random 0-300 ms more, SIGKILL the server,
take the observer's entries as "seen", restart the server on the same port and data, and,
before any writer reconnects, sync a fresh observer: every seen entry must be there, none
twice. Writers then reconnect with their docs (as browsers do, sending what the server
lacks) and go on. At the end every entry every writer made must be stored.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pycrdt import Array, Decoder, Doc, TransactionEvent, create_sync_message, handle_sync_message

from . import debrief_api, servers
from .plan import DocRef, Target
from .rawws import RawWebSocket
from .wire import create_update_message
from .worker import _LOOP_FACTORY, raise_nofile

SYNC, STEP1 = 0, 0


@dataclass(frozen=True)
class DurabilityConfig:
    rounds: int = 10
    writers: int = 20
    rate_hz: float = 25.0  # per writer
    min_seen: int = 1000  # new entries the observer sees in a round before the kill
    seed: int = 14

    @property
    def title(self) -> str:
        return (
            f"Durability: kill -9 x {self.rounds} under {self.writers} writers "
            f"({self.rate_hz:g} entries/s each), SQLite"
        )


@dataclass
class DurabilityResult:
    scenario: str = "durability"
    server: str = "debrief"
    title: str = ""
    rounds: int = 0
    seen: int = 0  # entries the observer had seen before each kill, summed over rounds
    seen_last: int = 0  # distinct entries seen before the last kill
    lost: int = 0  # seen before a kill, missing after the restart
    duplicated: int = 0  # entries stored twice
    written: int = 0  # entries the writers made in total
    missing_at_end: int = 0  # of those, not stored after the writers resynced
    restart_s: list[float] = field(default_factory=list)  # kill -> /healthz 200
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Server:
    """One `debrief serve` on a fixed port and data dir that can be killed and restarted."""

    def __init__(self, log_dir: Path) -> None:
        self.port = servers.free_port()
        self.data_dir = Path(tempfile.mkdtemp(prefix="debrief-bench-durability-"))
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"durability-{self.port}.log"
        self.target = Target("debrief", servers.HOST, (self.port,))
        self.running: servers.RunningServer | None = None

    def start(self) -> float:
        started = time.monotonic()
        cmd = servers._command("debrief", self.port, self.data_dir)
        with self.log_path.open("ab") as log:
            proc = subprocess.Popen(
                cmd,
                env=servers._server_env(self.port),
                cwd=str(servers.COMPETITORS),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.running = servers.RunningServer("debrief", self.target, [proc], None, [self.log_path])
        servers._wait_ready(self.running, 60)
        return time.monotonic() - started

    def kill(self) -> None:
        if self.running is not None:
            proc = self.running.procs[0]
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)

    def stop(self) -> None:
        if self.running is not None:
            self.running.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)


class _Peer:
    """A y-websocket client on rawws.py with a pycrdt doc: writers keep theirs across
    reconnects (and resend what the server lacks); the observer applies what arrives."""

    def __init__(self, url: str, token: str, apply: bool) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.apply = apply
        self.doc: Doc[Any] = Doc()
        self.ws: RawWebSocket | None = None
        self.synced = asyncio.Event()
        self.changed = asyncio.Event()
        self.refusals = 0
        self.reasons: list[str] = []
        self._early: list[bytes] = []

    @property
    def open(self) -> bool:
        return self.ws is not None and not self.ws.closed

    async def connect(self) -> None:
        self.synced.clear()
        self.ws = None  # until open() returns, step 1 replies wait in _early
        ws = await RawWebSocket.open(self.url, self.headers, self._on_message, _quiet, 10)
        self.ws = ws
        for reply in self._early:  # the server's step 1 can come with the handshake
            ws.send(reply)
        self._early.clear()
        ws.send(create_sync_message(self.doc))
        async with asyncio.timeout(30):
            await self.synced.wait()

    def _on_message(self, payload: bytes, _now: int) -> None:
        if len(payload) < 2:
            return
        if payload[0] == 2:
            self.refusals += 1
            try:
                self.reasons.append(Decoder(payload[2:]).read_var_string()[:100])
            except Exception:
                self.reasons.append("?")
            return
        if payload[0] != SYNC:
            return
        if payload[1] == STEP1:
            reply = handle_sync_message(payload[1:], self.doc)
            if reply is not None:
                if self.ws is None:
                    self._early.append(reply)
                else:
                    self.ws.send(reply)
            return
        if self.apply:
            handle_sync_message(payload[1:], self.doc)
            self.changed.set()
        if payload[1] == 1:
            self.synced.set()

    def entries(self) -> list[str]:
        return [str(x) for x in self.doc.get("log", type=Array)]

    def close(self) -> None:
        if self.ws is not None:
            self.ws.close()


def _quiet(_why: str) -> None:
    pass


class _Writer(_Peer):
    def __init__(self, index: int, url: str, token: str) -> None:
        super().__init__(url, token, apply=False)
        self.index = index
        self.made = 0
        self._update = b""
        self.doc.observe(self._capture)

    def _capture(self, event: TransactionEvent) -> None:
        self._update = event.update

    async def write_loop(self, rate_hz: float, up: asyncio.Event, stop: asyncio.Event) -> None:
        period = 1 / rate_hz
        await asyncio.sleep(random.random() * period)
        while not stop.is_set():
            if not self.open:
                await up.wait()
                try:
                    await self.connect()
                except (OSError, TimeoutError, ConnectionError):
                    await asyncio.sleep(0.1)
                    continue
            self.doc.get("log", type=Array).append(f"w{self.index}-{self.made}")
            self.made += 1
            if self.ws is not None:
                self.ws.send(create_update_message(self._update))
            await asyncio.sleep(period)


async def _fresh_entries(url: str, token: str) -> list[str]:
    checker = _Peer(url, token, apply=True)
    await checker.connect()
    entries = checker.entries()
    checker.close()
    return entries


async def _rounds(cfg: DurabilityConfig, server: _Server, res: DurabilityResult) -> None:
    rng = random.Random(cfg.seed)
    target = server.target
    doc, observer_invite = _review(target)
    invites = [doc.invite] * cfg.writers
    tokens = await debrief_api.join_all([target] * cfg.writers, invites)
    (watch_token,) = await debrief_api.join_all([target], [observer_invite])
    url = debrief_api.ws_url(target, doc)
    writers = [_Writer(i, url, t) for i, t in enumerate(tokens)]
    up, stop = asyncio.Event(), asyncio.Event()
    up.set()
    loops = [asyncio.create_task(w.write_loop(cfg.rate_hz, up, stop)) for w in writers]
    try:
        for _ in range(cfg.rounds):
            observer = _Peer(url, watch_token, apply=True)
            await observer.connect()
            start = len(observer.entries())
            async with asyncio.timeout(120):
                while len(observer.entries()) < start + cfg.min_seen:
                    observer.changed.clear()
                    await observer.changed.wait()
            await asyncio.sleep(rng.random() * 0.3)
            up.clear()
            server.kill()
            await asyncio.sleep(0.2)  # let the observer read what the dead server had sent
            seen = observer.entries()
            observer.close()
            res.restart_s.append(await asyncio.to_thread(server.start))
            stored = await _fresh_entries(url, watch_token)  # before any writer is back
            res.rounds += 1
            res.seen += len(seen)
            res.seen_last = len(set(seen))
            res.lost += len(set(seen) - set(stored))
            res.duplicated += len(stored) - len(set(stored))
            up.set()
        stop.set()
        await asyncio.gather(*loops)
        for w in writers:  # resync every writer, then everything they made must be stored
            if not w.open:
                await w.connect()
        made = {f"w{w.index}-{n}" for w in writers for n in range(w.made)}
        res.written = len(made)
        stored_set: set[str] = set()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            stored_set = set(await _fresh_entries(url, watch_token))
            if made <= stored_set:
                break
            await asyncio.sleep(0.5)
        res.missing_at_end = len(made - stored_set)
        refusals = sum(w.refusals for w in writers)
        if refusals:
            reasons = sorted({r for w in writers for r in w.reasons})
            res.errors.append(f"{refusals} writes refused: {reasons[:3]}")
    finally:
        stop.set()
        up.set()
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        for w in writers:
            w.close()


def _review(target: Target) -> tuple[DocRef, str]:
    """A new review (its timeline) and its observer invite."""
    with httpx.Client(timeout=30) as http:
        resp = http.post(f"{target.http_base}/api/reviews", json={"title": "bench durability"})
    if resp.status_code != 201:
        raise RuntimeError(f"POST /api/reviews -> {resp.status_code}: {resp.text[:200]}")
    body = resp.json()
    doc = DocRef(
        name=f"{body['id']}/timeline", review_id=body["id"], invite=body["invites"]["participant"]
    )
    return doc, str(body["invites"]["observer"])


def run(cfg: DurabilityConfig, log_dir: Path) -> DurabilityResult:
    raise_nofile(65536)
    started = time.monotonic()
    res = DurabilityResult(title=cfg.title)
    server = _Server(log_dir)
    try:
        server.start()
        with asyncio.Runner(loop_factory=_LOOP_FACTORY) as runner:
            runner.run(_rounds(cfg, server, res))
    except Exception as exc:
        res.errors.insert(0, f"run failed: {type(exc).__name__}: {exc}"[:300])
    finally:
        server.stop()
    res.wall_s = time.monotonic() - started
    return res


def summary(r: DurabilityResult) -> str:
    restart = f"{min(r.restart_s):.2f}-{max(r.restart_s):.2f}" if r.restart_s else "-"
    return (
        f"{r.rounds} kills: {r.lost} lost of {r.seen} seen entries (summed over the kills; "
        f"{r.seen_last} distinct before the last), {r.duplicated} duplicated; "
        f"{r.written} written in all, {r.missing_at_end} missing after the writers resynced; "
        f"restart {restart} s, {r.wall_s:.0f} s wall"
    )
