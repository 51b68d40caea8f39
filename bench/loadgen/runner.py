"""Run one scenario against one server: start it, spread the clients, time, measure, stop."""

from __future__ import annotations

import multiprocessing as mp
import time
from array import array
from dataclasses import asdict, dataclass, field, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from . import debrief_api, procstat, profiling, servers
from .plan import DocRef, ServerKind, Target, WorkerResult
from .scenarios import Scenario, layout
from .worker import raise_nofile, worker_main

NOFILE = 65536
START_SLACK_NS = 300_000_000  # workers get the start signal this long before t0


@dataclass
class ScenarioResult:
    server: str
    scenario: str
    title: str
    clients: int
    mode: str = ""
    connected: int = 0
    expected: int = 0
    received: int = 0
    superseded: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    samples: int = 0
    server_cpu_s: float = 0.0
    server_peak_rss_mib: float = 0.0
    rss_per_client_kib: float | None = None
    generator_cpu_s: float = 0.0
    other_cpu_s: float = 0.0  # busy CPU of everything else on the machine (noise)
    phase_s: float = 0.0
    send_lag_max_ms: float = 0.0
    verified_ok: int = 0
    verified_failed: int = 0
    wall_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    # scale-out (debrief-redis): server CPU/RSS above are summed over its processes
    processes: int = 1
    process_cpu_s: list[float] = field(default_factory=list)  # timed-phase CPU per process
    redis_cpu_s: float | None = None
    redis_peak_rss_mib: float | None = None
    skipped: str = ""  # why this (scenario, server) pair was not run
    # --repeat: this row is the median run of several; each run's p99 (or RSS per client)
    rounds: list[float] = field(default_factory=list)

    @property
    def delivered(self) -> float:
        return self.received / self.expected if self.expected else 0.0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["delivered"] = self.delivered
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ScenarioResult:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile of an ascending list (microseconds in, milliseconds out)."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, int(q * len(sorted_values) + 0.999999) - 1))
    return sorted_values[rank] / 1000


def _docs(sc: Scenario, target: Target) -> list[DocRef]:
    if target.debrief:
        return debrief_api.create_reviews(target, sc.docs, f"bench {sc.name}")
    return [DocRef(name=f"bench-{sc.name}-{i}") for i in range(sc.docs)]


def _recv_all(conns: list[Connection], kind: str, timeout_s: float) -> dict[int, Any]:
    """Wait until every pipe delivered a message of ``kind`` (bounded by ``timeout_s``)."""
    got: dict[int, Any] = {}
    deadline = time.monotonic() + timeout_s
    while len(got) < len(conns):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"generator processes not {kind} after {timeout_s:.0f}s")
        for c in wait([c for i, c in enumerate(conns) if i not in got], timeout=left):
            assert isinstance(c, Connection)
            try:
                msg, payload = c.recv()
            except EOFError:
                raise RuntimeError("a generator process died") from None
            if msg == "crashed":
                raise RuntimeError(str(payload))
            if msg == kind:
                got[conns.index(c)] = payload
    return got


def median_run(runs: list[ScenarioResult]) -> ScenarioResult:
    """One row for several runs of one (scenario, server) pair: the run with the median
    p99 (RSS per client for idle), so its cells come from one run; delivered, errors and
    failed verifications add up over all of them, so a loss in any run shows."""
    if len(runs) == 1 or any(r.skipped for r in runs):
        return runs[0]

    def key(r: ScenarioResult) -> float:
        value = r.p99_ms if r.p99_ms is not None else r.rss_per_client_kib
        return value if value is not None else float("inf")

    ordered = sorted(runs, key=key)
    row = replace(ordered[len(ordered) // 2])  # of an even count, the higher middle
    row.expected = sum(r.expected for r in runs)
    row.received = sum(r.received for r in runs)
    row.superseded = sum(r.superseded for r in runs)
    row.verified_failed = sum(r.verified_failed for r in runs)
    row.connected = min(r.connected for r in runs)
    row.errors = [e for r in runs for e in r.errors]
    row.rounds = [key(r) for r in runs]
    return row


def skipped(kind: ServerKind, sc: Scenario, why: str) -> ScenarioResult:
    """The row of a (scenario, server) pair that was not run."""
    return ScenarioResult(
        server=kind, scenario=sc.name, title=sc.title, clients=sc.clients, mode=sc.mode, skipped=why
    )


def run(
    kind: ServerKind, sc: Scenario, log_dir: Path, profile_dir: Path | None = None
) -> ScenarioResult:
    """Start a fresh ``kind`` server, run ``sc`` against it, and stop it.

    With ``profile_dir`` a Python server is sampled by py-spy during the timed phase (the
    first process of a scale-out cluster).
    """
    raise_nofile(NOFILE)
    started = time.monotonic()
    res = ScenarioResult(
        server=kind, scenario=sc.name, title=sc.title, clients=sc.clients, mode=sc.mode
    )
    server = servers.start(kind, log_dir)
    res.processes = len(server.pids)
    pids = server.pids
    redis_pid = server.redis_pid
    python_server = kind in ("debrief", "debrief-redis", "pycrdt")
    ctx = mp.get_context("spawn")
    procs: list[Any] = []
    conns: list[Connection] = []
    profiler: profiling.Profiler | None = None
    try:
        docs = _docs(sc, server.target)
        for plan in layout(sc, server.target, docs, NOFILE):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=worker_main, args=(plan, child), daemon=True)
            p.start()
            child.close()
            procs.append(p)
            conns.append(parent)
        setup_s = sc.workload.connect_timeout_s * 3 + 120
        _recv_all(conns, "joined", setup_s)
        base = procstat.sample_all(pids)  # after the API calls: connections only from here
        if profile_dir is not None and python_server and sc.mode == "idle":
            # idle: what costs is connecting and holding, so profile from here
            profiler = profiling.Profiler(server.pid, profile_dir / f"{kind}-{sc.name}.txt")
        for c in conns:
            c.send(("go", None))
        _recv_all(conns, "warm", setup_s)
        for c in conns:
            c.send(("connect", None))
        ready = _recv_all(conns, "ready", setup_s)
        res.connected = sum(int(r.get("connected", 0)) for r in ready.values() if r)
        held = None
        if sc.mode == "idle":
            time.sleep(sc.hold_s)
            held = procstat.sample_all(pids)
            if res.connected:
                res.rss_per_client_kib = (held.rss_kib - base.rss_kib) / res.connected
        if profile_dir is not None and python_server and profiler is None:
            profiler = profiling.Profiler(server.pid, profile_dir / f"{kind}-{sc.name}.txt")
        before = procstat.sample_all(pids)
        before_each = [procstat.sample(p) for p in pids]
        redis0 = procstat.sample(redis_pid) if redis_pid is not None else None
        busy0 = procstat.system_busy_s()
        t0 = time.monotonic_ns() + START_SLACK_NS
        for c in conns:
            c.send(("start", t0))
        wl = sc.workload
        done = _recv_all(conns, "done", wl.duration_s + wl.drain_s + wl.connect_timeout_s + 120)
        after = procstat.sample_all(pids)
        after_each = [procstat.sample(p) for p in pids]
        redis1 = procstat.sample(redis_pid) if redis_pid is not None else None
        busy = procstat.system_busy_s() - busy0
        res.phase_s = (time.monotonic_ns() - t0) / 1e9
        if profiler is not None:
            profiler.stop()
            summary = profiling.summarise(profiler.out)
            profiler.out.with_suffix(".summary.txt").write_text(summary + "\n")
        # idle: the cost of connecting and holding the clients; otherwise the timed phase
        res.server_cpu_s = (held.cpu_s - base.cpu_s) if held else (after.cpu_s - before.cpu_s)
        res.server_peak_rss_mib = after.hwm_kib / 1024
        if len(pids) > 1:
            res.process_cpu_s = [
                a.cpu_s - b.cpu_s for a, b in zip(after_each, before_each, strict=True)
            ]
        redis_cpu = 0.0
        if redis0 is not None and redis1 is not None:
            redis_cpu = redis1.cpu_s - redis0.cpu_s
            res.redis_cpu_s = redis_cpu
            res.redis_peak_rss_mib = redis1.hwm_kib / 1024
        _merge(res, [r for r in done.values() if isinstance(r, WorkerResult)], sc)
        server_cpu = after.cpu_s - before.cpu_s + redis_cpu
        res.other_cpu_s = max(0.0, busy - server_cpu - res.generator_cpu_s)
        if not server.alive():
            res.errors.insert(0, server.exits())
    except Exception as exc:
        res.errors.insert(0, f"run failed: {exc}"[:300])
    finally:
        if profiler is not None:
            profiler.stop()
        stop_workers(conns, procs)
        server.stop()
    res.wall_s = time.monotonic() - started
    return res


def _merge(res: ScenarioResult, results: list[WorkerResult], sc: Scenario) -> None:
    lat: array[int] = array("q")
    for r in results:
        chunk: array[int] = array("q")
        chunk.frombytes(r.latencies_us)
        lat.extend(chunk)
        res.expected += r.expected
        res.received += r.received
        res.superseded += r.superseded
        res.generator_cpu_s += r.cpu_s
        res.send_lag_max_ms = max(res.send_lag_max_ms, r.send_lag_max_ms)
        res.verified_ok += r.verified_ok
        res.verified_failed += r.verified_failed
        res.errors.extend(r.errors)
        if sc.mode == "storm":
            res.connected += r.connected
    values = sorted(lat)
    res.samples = len(values)
    if values:
        res.p50_ms = percentile(values, 0.50)
        res.p99_ms = percentile(values, 0.99)
        res.max_ms = values[-1] / 1000
    # keep the report readable: first few distinct errors, with counts
    counts: dict[str, int] = {}
    for e in res.errors:
        counts[e] = counts.get(e, 0) + 1
    res.errors = [f"{n}x {e}" if n > 1 else e for e, n in list(counts.items())[:8]]


def stop_workers(conns: list[Any], procs: list[Any]) -> None:
    """Close the pipes to the worker processes and wait for them (killed if they hang)."""
    for c in conns:
        c.close()
    for p in procs:
        p.join(timeout=15)
        if p.is_alive():
            p.kill()
            p.join(timeout=5)
