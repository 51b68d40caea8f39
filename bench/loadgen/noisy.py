"""`noisy-neighbour` (issue 14 item 1): review A flooded with ~1 MiB updates, review B timed.

Two generator processes: one holds A's flooders (flood.py), the other B's ordinary clients
(a few writers adding a ~100-byte map key a few times a second, everyone else listening,
one verifying client decoding every update). From one start instant the flooders write as
fast as the server takes it for ``flood_s`` seconds and stop; B's writers keep their pace
through the flood and ``after_s`` seconds more. Each of B's latency samples (writer's send
-> another client's arrival) is filed by its send time: during the flood or after it.

The server runs with the bench's lifted join/attendee limits (servers.BENCH_LIMITS) but
its own write rates and doc-size bound: those are what this scenario is about.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import sqlite3
import threading
import time
import urllib.request
from array import array
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from . import debrief_api, procstat, servers
from .client import BenchClient, Expectation, UpdateWriter
from .flood import Flooder, FloodStats
from .phases import GOLDEN, _paced
from .plan import ClientPlan, DocRef, Target
from .runner import _recv_all, percentile, stop_workers
from .worker import _LOOP_FACTORY, raise_nofile

START_SLACK_NS = 500_000_000
CORES = os.cpu_count() or 1


@dataclass(frozen=True)
class NoisyConfig:
    flooders: int = 4
    flood_s: float = 10.0
    after_s: float = 15.0
    b_clients: int = 10
    b_writers: int = 3
    b_rate_hz: float = 4.0  # per writer
    drain_s: float = 10.0  # B's receivers may catch up this long after the last send

    @property
    def title(self) -> str:
        return (
            f"Noisy neighbour: {self.flooders} clients flood review A with ~1 MiB updates for "
            f"{self.flood_s:g} s; review B: {self.b_clients} clients, {self.b_writers} writers "
            f"x {self.b_rate_hz:g}/s"
        )


@dataclass
class Phase:
    samples: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None


@dataclass
class NoisyResult:
    scenario: str = "noisy-neighbour"
    server: str = "debrief"
    title: str = ""
    during: Phase = field(default_factory=Phase)
    after: Phase = field(default_factory=Phase)
    overall: Phase = field(default_factory=Phase)  # both together
    b_expected: int = 0
    b_received: int = 0
    b_verified_ok: int = 0
    b_verified_failed: int = 0
    peak_rss_mib: float = 0.0
    rss_start_mib: float = 0.0
    rss_end_mib: float = 0.0
    server_cpu_s: float = 0.0
    machine_busy_s: float = 0.0  # CPU s the whole machine was busy (2 cores: 2 per second)
    timed_s: float = 0.0  # seconds from the start instant to the end of B's drain
    taken_in_mib_s: float | None = None  # what the server read off A's sockets, per flood second
    stored_a_mib: float | None = None  # A's timeline as stored at the end
    accepted_mib_s: float | None = None  # stored_a_mib per flood second
    flood: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- generator processes -----------------------------------------------------------------


def _run_proc(main: Any, *args: Any) -> None:
    conn: Connection = args[-1]
    raise_nofile(4096)
    with asyncio.Runner(loop_factory=_LOOP_FACTORY) as runner:
        try:
            result = runner.run(main(*args))
        except Exception as exc:
            conn.send(("crashed", f"{main.__name__}: {exc!r}"[:300]))
        else:
            conn.send(("done", result))
    conn.close()


def flood_proc(target: Target, doc: DocRef, cfg: NoisyConfig, conn: Connection) -> None:
    _run_proc(_flood, target, doc, cfg, conn)


def neighbour_proc(target: Target, doc: DocRef, cfg: NoisyConfig, conn: Connection) -> None:
    _run_proc(_neighbours, target, doc, cfg, conn)


async def _wait_start(conn: Connection) -> int:
    loop = asyncio.get_running_loop()
    cmd, t0 = await loop.run_in_executor(None, conn.recv)
    if cmd != "start":
        raise RuntimeError("aborted by the harness")
    wait = (t0 - time.monotonic_ns()) / 1e9
    if wait > 0:
        await asyncio.sleep(wait)
    return int(t0)


async def _flood(target: Target, doc: DocRef, cfg: NoisyConfig, conn: Connection) -> dict[str, Any]:
    tokens = await debrief_api.join_all([target] * cfg.flooders, [doc.invite] * cfg.flooders)
    url = debrief_api.ws_url(target, doc)
    stats = [FloodStats() for _ in range(cfg.flooders)]
    flooders = [Flooder(i, url, tok, stats[i]) for i, tok in enumerate(tokens)]
    conn.send(("ready", None))
    t0 = await _wait_start(conn)
    until = t0 + int(cfg.flood_s * 1e9)
    await asyncio.gather(*(f.run(until) for f in flooders))
    took = (time.monotonic_ns() - t0) / 1e9
    reasons: dict[str, int] = {}
    closes: dict[str, int] = {}
    for s in stats:
        for k, v in s.reasons.items():
            reasons[k] = reasons.get(k, 0) + v
        for k, v in s.closes.items():
            closes[k] = closes.get(k, 0) + v
    return {
        "updates_sent": sum(s.updates_sent for s in stats),
        "bytes_sent": sum(s.bytes_sent for s in stats),
        "bytes_relayed_to_flooders": sum(s.bytes_received for s in stats),
        "refusals": sum(s.refusals for s in stats),
        "refusal_reasons": reasons,
        "closes": closes,
        "connects": sum(s.connects for s in stats),
        "connect_failures": sum(s.connect_failures for s in stats),
        "client_ids": sum(s.client_ids for s in stats),
        "seconds": took,
    }


class TimedClient(BenchClient):
    """A BenchClient that also keeps each sample's send time (to file it by phase)."""

    sent_ns: array[int]

    def _record(self, expect: Expectation, markers: list[tuple[int, int, int]], now: int) -> None:
        was_complete = expect.complete
        for sender, seq, sent in markers:
            if expect.mark(sender, seq):
                self.latencies.append((now - sent) // 1000)
                self.sent_ns.append(sent)
        if not was_complete and expect.complete:
            self.on_complete()


async def _neighbours(
    target: Target, doc: DocRef, cfg: NoisyConfig, conn: Connection
) -> dict[str, Any]:
    n = cfg.b_clients
    tokens = await debrief_api.join_all([target] * n, [doc.invite] * n)
    url = debrief_api.ws_url(target, doc)
    lat: array[int] = array("q")
    sent: array[int] = array("q")
    done = asyncio.Event()
    pending = [0]

    def one_complete() -> None:
        pending[0] -= 1
        if pending[0] <= 0:
            done.set()

    clients: list[TimedClient] = []
    for k in range(n):
        writer = k if k < cfg.b_writers else -1
        plan = ClientPlan(cid=k, doc=0, writer=writer, verify=k == cfg.b_writers, first=k == 0)
        c = TimedClient(plan, target, url, doc.name, tokens[k], lat, one_complete)
        c.sent_ns = sent
        clients.append(c)
    errors: list[str] = []
    for c in clients:
        if not await c.connect(30.0):
            errors.append(f"B client {c.plan.cid} did not connect")
    conn.send(("ready", None))
    t0 = await _wait_start(conn)
    count = max(1, round((cfg.flood_s + cfg.after_s) * cfg.b_rate_hz))
    writers = list(range(cfg.b_writers))
    expected = 0
    for c in clients:
        c.expect = Expectation(writers, c.plan.writer, count)
        expected += c.expect.expected
        pending[0] += 1
    senders = [
        asyncio.create_task(
            _paced(
                UpdateWriter(c, 100).send, count, t0, cfg.b_rate_hz, (c.plan.writer * GOLDEN) % 1
            )
        )
        for c in clients
        if c.plan.is_writer and c.is_open
    ]
    lags = await asyncio.gather(*senders, return_exceptions=True)
    errors += [f"B writer: {x!r}"[:200] for x in lags if isinstance(x, BaseException)]
    try:
        await asyncio.wait_for(done.wait(), cfg.drain_s)
    except TimeoutError:
        pass
    want = {(w, s) for w in writers for s in range(count)}
    verified = [want <= c.bench_keys() for c in clients if c.plan.verify]
    for c in clients:
        errors.extend(c.errors)
        await c.close()
    return {
        "lat_us": lat.tobytes(),
        "sent_ns": sent.tobytes(),
        "expected": expected,
        "received": sum(c.expect.received for c in clients if c.expect is not None),
        "verified_ok": sum(verified),
        "verified_failed": len(verified) - sum(verified),
        "errors": errors[:10],
    }


# --- harness -------------------------------------------------------------------------------


def metric(target: Target, name: str, timeout_s: float = 30.0) -> float | None:
    """One counter from the server's /metrics (None if unreachable or absent)."""
    try:
        with urllib.request.urlopen(f"{target.http_base}/metrics", timeout=timeout_s) as resp:
            text = resp.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "_total "):
            return float(line.split()[-1])
    return None


def stored_doc_bytes(data_dir: Path, doc_key: str) -> int | None:
    """Bytes the server has stored for one doc (snapshot + updates since), read from its
    SQLite file while it runs (read-only)."""
    path = data_dir / "debrief.sqlite3"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as db:
            (updates,) = db.execute(
                "SELECT coalesce(sum(length(data)), 0) FROM doc_updates WHERE doc = ?", (doc_key,)
            ).fetchone()
            (snap,) = db.execute(
                "SELECT coalesce(sum(length(data)), 0) FROM doc_snapshots WHERE doc = ?",
                (doc_key,),
            ).fetchone()
        return int(updates) + int(snap)
    except sqlite3.Error:
        return None


class RssSampler(threading.Thread):
    """Samples the server's resident set every ``period_s`` until stopped."""

    def __init__(self, pid: int, period_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.period_s = period_s
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append((time.monotonic(), procstat.sample(self.pid).rss_kib))
            self._stop_event.wait(self.period_s)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def _phase(values: list[int]) -> Phase:
    values.sort()
    if not values:
        return Phase()
    return Phase(
        samples=len(values),
        p50_ms=percentile(values, 0.5),
        p99_ms=percentile(values, 0.99),
        max_ms=values[-1] / 1000,
    )


def run(cfg: NoisyConfig, log_dir: Path) -> NoisyResult:
    """Start a fresh debrief server, run the scenario against it, stop it."""
    raise_nofile(65536)
    started = time.monotonic()
    res = NoisyResult(title=cfg.title)
    server = servers.start("debrief", log_dir)
    ctx = mp.get_context("spawn")
    procs: list[Any] = []
    conns: list[Connection] = []
    sampler: RssSampler | None = None
    try:
        a, b = debrief_api.create_reviews(server.target, 2, "bench noisy")
        for fn, doc in ((flood_proc, a), (neighbour_proc, b)):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=fn, args=(server.target, doc, cfg, child), daemon=True)
            p.start()
            child.close()
            procs.append(p)
            conns.append(parent)
        _recv_all(conns, "ready", 120)
        base = procstat.sample(server.pid)
        res.rss_start_mib = base.rss_kib / 1024
        bytes0 = metric(server.target, "debrief_bytes_received")
        sampler = RssSampler(server.pid)
        sampler.start()
        busy0 = procstat.system_busy_s()
        t0 = time.monotonic_ns() + START_SLACK_NS
        for c in conns:
            c.send(("start", t0))
        out = _recv_all(conns, "done", cfg.flood_s + cfg.after_s + cfg.drain_s + 120)
        flood, neigh = out[0], out[1]
        end = procstat.sample(server.pid)
        res.machine_busy_s = procstat.system_busy_s() - busy0
        res.timed_s = (time.monotonic_ns() - t0) / 1e9
        res.server_cpu_s = end.cpu_s - base.cpu_s
        res.rss_end_mib = end.rss_kib / 1024
        res.peak_rss_mib = end.hwm_kib / 1024
        bytes1 = metric(server.target, "debrief_bytes_received")
        if bytes0 is not None and bytes1 is not None:
            res.taken_in_mib_s = (bytes1 - bytes0) / 2**20 / cfg.flood_s
        stored = stored_doc_bytes(server.data_dir or Path("."), f"{a.review_id}/timeline")
        if stored is not None:
            res.stored_a_mib = stored / 2**20
            res.accepted_mib_s = res.stored_a_mib / cfg.flood_s
        res.flood = flood
        lat: array[int] = array("q")
        lat.frombytes(neigh["lat_us"])
        sent: array[int] = array("q")
        sent.frombytes(neigh["sent_ns"])
        flood_end = t0 + int(cfg.flood_s * 1e9)
        during = [v for v, s in zip(lat, sent, strict=True) if s < flood_end]
        after = [v for v, s in zip(lat, sent, strict=True) if s >= flood_end]
        res.during, res.after = _phase(during), _phase(after)
        res.overall = _phase(list(lat))
        res.b_expected, res.b_received = neigh["expected"], neigh["received"]
        res.b_verified_ok, res.b_verified_failed = neigh["verified_ok"], neigh["verified_failed"]
        res.errors.extend(neigh["errors"])
        if not server.alive():
            res.errors.insert(0, server.exits())
    except Exception as exc:
        res.errors.insert(0, f"run failed: {exc}"[:300])
    finally:
        if sampler is not None:
            sampler.stop()
        stop_workers(conns, procs)
        server.stop()
    res.wall_s = time.monotonic() - started
    return res


def summary(r: NoisyResult) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    def num(v: float | None, digits: int = 1) -> str:
        return "-" if v is None else f"{v:.{digits}f}"

    f = r.flood
    return (
        f"B during flood: p50 {ms(r.during.p50_ms)} / p99 {ms(r.during.p99_ms)} / max "
        f"{ms(r.during.max_ms)} ms ({r.during.samples} samples); after: p50 "
        f"{ms(r.after.p50_ms)} / p99 {ms(r.after.p99_ms)} / max {ms(r.after.max_ms)} ms "
        f"({r.after.samples}); overall p99 {ms(r.overall.p99_ms)} ms; B delivered "
        f"{r.b_received}/{r.b_expected}, verified "
        f"{r.b_verified_ok} ok {r.b_verified_failed} failed\n"
        f"   server: peak RSS {r.peak_rss_mib:.0f} MiB (start {r.rss_start_mib:.0f}, end "
        f"{r.rss_end_mib:.0f}), CPU {r.server_cpu_s:.1f} s (machine busy {r.machine_busy_s:.0f} of "
        f"{r.timed_s * CORES:.0f} CPU s); A: taken in "
        f"{num(r.taken_in_mib_s, 2)} MiB/s, stored {num(r.stored_a_mib)} MiB "
        f"({num(r.accepted_mib_s, 2)} MiB/s of flood)\n"
        f"   flooders: {f.get('updates_sent', 0)} updates sent, "
        f"{f.get('bytes_sent', 0) / 2**20:.0f} MiB drained, {f.get('refusals', 0)} refusals "
        f"{f.get('refusal_reasons', {})}, closes {f.get('closes', {})}, "
        f"{f.get('connects', 0)} connects, {r.wall_s:.0f} s wall"
    )
