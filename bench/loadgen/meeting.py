"""`meeting` (issue 15): the command path people act through, against its floor.

One run, on one server kind (debrief: SQLite; debrief-redis: 2 processes + Redis):

1. *floor*: a bare Starlette endpoint on the same uvicorn options (floor_app.py) that
   checks a bearer token and inserts one SQLite row, hammered by ``connections``
   keep-alive connections (lean_http.py) for ``throughput_s`` after a warm-up; on
   debrief-redis also the *floor on Redis*: the same endpoint as many processes as the
   cluster has, each note one HSET in the cluster's Redis (ours / that: the deployment
   shape's own floor);
2. *throughput*: the same generator posting notes (`POST /api/reviews/{r}/notes`) as the
   participants of ``throughput_reviews`` reviews, no websocket clients: notes/s, HTTP
   p50/p99, and ours / floor. The two are taken by turns (floor, ours, ours, floor, ...)
   in ``throughput_turns`` slices each, so that a slower minute of a shared box weighs on
   both alike (one slice each after the other put the floor's and our figures minutes
   apart: the ratio of the same build moved from 0.26 to 0.38 in one hour);
3. *seen*: ``seen_reviews`` reviews of ``people`` (1 moderator), every person holding the
   three docs (room, timeline, recap) over websockets; each review runs a mix of commands
   one after the other at ``rate_hz`` (notes, votes, timer, phase): command sent -> the
   change in every client's `room` doc (the actor's own included);
4. *reveal*: in ``reveal_reviews`` of them the moderator reveals a section of
   ``reveal_notes`` hidden notes, one review every ``reveal_gap_s``: reveal sent -> every
   client holds every note.

Generator processes (meeting_gen.py) share the reviews; their CPU is reported per phase.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from . import loop_stalls, procstat, profiling, servers
from .debrief_api import post_reviews
from .meeting_gen import GenPlan, HammerResult, MeetingReview, SeenResult, gen_main
from .plan import ServerKind, Target
from .runner import _recv_all, percentile, stop_workers
from .worker import raise_nofile

NAME = "meeting"
RESULTS = servers.BENCH / "results"
START_SLACK_NS = 300_000_000
FLOOR_APP = Path(__file__).resolve().parent / "floor_app.py"
# one person posts ~8 notes/s at full speed here: the per-session limit (20/s) must not
# be what is measured; the environment still wins
COMMAND_LIMITS = {"DEBRIEF_RATE_SESSION": "1000000/second"}


@dataclass(frozen=True)
class MeetingConfig:
    throughput_reviews: int = 50
    throughput_people: int = 8
    connections: int = 32
    warmup_s: float = 1.0
    throughput_s: float = 5.0  # each side's, over all its slices
    throughput_turns: int = 4  # slices per side, taken by turns with the other's
    seen_reviews: int = 200
    people: int = 10
    rate_hz: float = 1.0  # commands per review per second (seen phase)
    seen_s: float = 10.0
    reveal_reviews: int = 20
    reveal_notes: int = 200
    reveal_gap_s: float = 0.25
    drain_s: float = 10.0
    procs: int = 2

    @property
    def title(self) -> str:
        return (
            f"Meeting commands: notes from {self.throughput_reviews} reviews x "
            f"{self.throughput_people} over {self.connections} connections for "
            f"{self.throughput_s:g} s (and the floor, by turns in {self.throughput_turns} "
            f"slices each); {self.seen_reviews} reviews x "
            f"{self.people} people holding 3 docs, {self.rate_hz:g} command/s per review for "
            f"{self.seen_s:g} s; reveal of {self.reveal_notes} notes in {self.reveal_reviews} "
            "reviews"
        )

    @classmethod
    def scaled(cls, scale: float, duration: float | None = None) -> MeetingConfig:
        def n(x: int) -> int:
            return max(2, round(x * scale))

        # the throughput phase has no websocket clients: its reviews stay (fewer would
        # measure lock contention on a few reviews, not the command path)
        cfg = cls(
            seen_reviews=n(200),
            reveal_reviews=min(n(20), n(200)),
        )
        if duration is not None:
            cfg = MeetingConfig(**{**asdict(cfg), "throughput_s": duration, "seen_s": duration})
        return cfg


@dataclass
class Figures:
    """Latency figures of one set of samples (milliseconds)."""

    samples: int = 0
    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None

    @classmethod
    def of(cls, raw: bytes | array[int]) -> Figures:
        values = array("q")
        if isinstance(raw, bytes):
            values.frombytes(raw)
        else:
            values = raw
        ordered = sorted(values)
        if not ordered:
            return cls()
        return cls(
            len(ordered), percentile(ordered, 0.5), percentile(ordered, 0.99), ordered[-1] / 1000
        )


@dataclass
class Hammered:
    per_s: float = 0.0
    http: Figures = field(default_factory=Figures)
    non_2xx: int = 0
    server_cpu_s: float = 0.0
    generator_cpu_s: float = 0.0
    others_cpu_s: float = 0.0  # the rest of the machine (noise)
    errors: list[str] = field(default_factory=list)


@dataclass
class Seen:
    http: dict[str, Figures] = field(default_factory=dict)  # per command kind
    seen_by_all: dict[str, Figures] = field(default_factory=dict)  # per command
    seen_each: dict[str, Figures] = field(default_factory=dict)  # per (command, client)
    all_commands: Figures = field(default_factory=Figures)  # seen-by-all, every kind
    expected: int = 0
    received: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    clients: int = 0
    server_cpu_s: float = 0.0
    redis_cpu_s: float | None = None
    generator_cpu_s: float = 0.0
    others_cpu_s: float = 0.0
    send_lag_max_ms: float = 0.0
    loop_stalls: dict[str, int] = field(default_factory=dict)  # ms -> stalls longer, server
    errors: list[str] = field(default_factory=list)


@dataclass
class MeetingResult:
    scenario: str = NAME
    server: str = "debrief"
    title: str = ""
    floor: Hammered = field(default_factory=Hammered)
    ours: Hammered = field(default_factory=Hammered)
    # 2 processes on Redis only: the floor as that deployment (its processes, one HSET each)
    redis_floor: Hammered | None = None
    seen: Seen = field(default_factory=Seen)
    reveal: Seen = field(default_factory=Seen)
    connected: int = 0
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def ratio(self) -> float | None:
        """Ours / floor in notes per second (below 1: slower than the floor)."""
        return self.ours.per_s / self.floor.per_s if self.floor.per_s else None

    @property
    def redis_ratio(self) -> float | None:
        """Ours / the floor on Redis (a cluster's run only)."""
        rf = self.redis_floor
        return self.ours.per_s / rf.per_s if rf is not None and rf.per_s else None

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        d["redis_ratio"] = self.redis_ratio
        return d


# --- the floor server ---------------------------------------------------------------------


class FloorServer:
    """floor_app.py: one process on SQLite, or ``procs`` processes on ``redis_url``."""

    def __init__(
        self, log_dir: Path, tokens: list[str], procs: int = 1, redis_url: str | None = None
    ) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="debrief-bench-floor-"))
        (self.dir / "tokens.json").write_text(json.dumps(tokens))
        ports: list[int] = []
        while len(ports) < procs:
            port = servers.free_port()
            if port not in ports:
                ports.append(port)
        log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen[bytes]] = []
        for port in ports:
            cmd = [
                sys.executable, str(FLOOR_APP), "--port", str(port), "--data", str(self.dir),
                "--tokens", str(self.dir / "tokens.json"),
                *(["--redis", redis_url] if redis_url else []),
            ]  # fmt: skip
            with (log_dir / f"floor-{port}.log").open("wb") as log:
                self.procs.append(
                    subprocess.Popen(servers.on_server_cpus(cmd), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                )  # fmt: skip
        self.target = Target("debrief", servers.HOST, tuple(ports))
        deadline = time.monotonic() + 30
        for i in range(procs):
            base = self.target.for_client(i).http_base
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if any(p.poll() is not None for p in self.procs) or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the floor server did not start")
                time.sleep(0.1)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- the run ------------------------------------------------------------------------------


def create_reviews(target: Target, count: int, first_index: int = 0) -> list[MeetingReview]:
    """``count`` reviews with their participant and moderator links, created on the
    processes of a cluster in turn."""
    return [
        MeetingReview(review_id=body["id"], participant_invite=body["invites"]["participant"],
                      moderator_invite=body["invites"]["moderator"], index=i)
        for i, body in enumerate(post_reviews(target, count, f"bench meeting {first_index}/"))
    ]  # fmt: skip


def _plans(
    cfg: MeetingConfig,
    target: Target,
    floor: FloorServer,
    floor_tokens: list[str],
    redis_floor: FloorServer | None = None,
) -> list[GenPlan]:
    tp = create_reviews(target, cfg.throughput_reviews)
    seen = [
        MeetingReview(**{**asdict(r), "reveal": r.index < cfg.reveal_reviews})
        for r in create_reviews(target, cfg.seen_reviews, cfg.throughput_reviews)
    ]
    procs = max(1, cfg.procs)
    return [
        GenPlan(
            index=i,
            target=target,
            floor=floor.target,
            floor_tokens=floor_tokens[i::procs],
            throughput_reviews=tp[i::procs],
            seen_reviews=seen[i::procs],
            people=cfg.people,
            throughput_people=cfg.throughput_people,
            connections=cfg.connections // procs + (1 if i < cfg.connections % procs else 0),
            warmup_s=cfg.warmup_s,
            throughput_s=cfg.throughput_s,
            seen_s=cfg.seen_s,
            rate_hz=cfg.rate_hz,
            total_seen_reviews=cfg.seen_reviews,
            reveal_notes=cfg.reveal_notes,
            reveal_gap_s=cfg.reveal_gap_s,
            drain_s=cfg.drain_s,
            redis_floor=None if redis_floor is None else redis_floor.target,
        )
        for i in range(procs)
    ]


class Phase:
    """CPU of the server, Redis and the rest of the machine around one timed phase, and
    the server's event-loop stalls (``bases``: its processes' HTTP addresses)."""

    def __init__(self, pids: list[int], redis_pid: int | None, bases: Sequence[str] = ()) -> None:
        self.pids, self.redis_pid, self.bases = pids, redis_pid, list(bases)
        self.lag0 = loop_stalls.scrape(bases) if bases else None
        self.cpu0 = procstat.sample_all(pids).cpu_s
        self.redis0 = procstat.sample(redis_pid).cpu_s if redis_pid else 0.0
        self.busy0 = procstat.system_busy_s()

    def stalls(self) -> dict[str, int]:
        """Loop stalls longer than 10, 25 and 50 ms since the phase began ({}: unknown)."""
        return loop_stalls.stalls(self.lag0, loop_stalls.scrape(self.bases)) if self.bases else {}

    def end(self, generator_cpu_s: float) -> tuple[float, float | None, float]:
        """(server CPU s, Redis CPU s or None, others' CPU s)."""
        server = procstat.sample_all(self.pids).cpu_s - self.cpu0
        redis = procstat.sample(self.redis_pid).cpu_s - self.redis0 if self.redis_pid else None
        busy = procstat.system_busy_s() - self.busy0
        return server, redis, max(0.0, busy - server - (redis or 0.0) - generator_cpu_s)


def _go(
    conns: list[Connection], phase: str, timeout_s: float, args: tuple[Any, ...] = ()
) -> dict[int, Any]:
    t0 = time.monotonic_ns() + START_SLACK_NS
    for c in conns:
        c.send((phase, t0, *args))
    return _recv_all(conns, phase, timeout_s)


def turns(count: int, floors: Sequence[str] = ("floor",)) -> list[str]:
    """The order of the floors' and our slices: floor, ours, ours, floor, floor, ours...
    (with two floors: floor, redis-floor, ours, ours, redis-floor, floor, ...)"""
    row = [*floors, "throughput"]
    return [name for i in range(max(1, count)) for name in (row if i % 2 == 0 else row[::-1])]


def _hammered(parts: list[HammerResult], seconds: float) -> Hammered:
    lat: array[int] = array("q")
    out = Hammered()
    for p in parts:
        chunk: array[int] = array("q")
        chunk.frombytes(p.latencies_us)
        lat.extend(chunk)
        out.generator_cpu_s += p.cpu_s
        out.non_2xx += sum(n for s, n in p.statuses.items() if not 200 <= s < 300)
        out.errors += p.errors
    out.http = Figures.of(lat)
    out.per_s = len(lat) / seconds if seconds else 0.0
    return out


def _seen(parts: list[SeenResult]) -> Seen:
    out = Seen()
    kinds = {k for p in parts for k in (*p.http_us, *p.all_us)}
    every_all: array[int] = array("q")
    for kind in sorted(kinds):
        merged = {"http": array("q"), "all": array("q"), "each": array("q")}
        for p in parts:
            for name, src in (("http", p.http_us), ("all", p.all_us), ("each", p.each_us)):
                chunk: array[int] = array("q")
                chunk.frombytes(src.get(kind, b""))
                merged[name].extend(chunk)
        out.http[kind] = Figures.of(merged["http"])
        if merged["all"]:
            out.seen_by_all[kind] = Figures.of(merged["all"])
            out.seen_each[kind] = Figures.of(merged["each"])
            every_all.extend(merged["all"])
    out.all_commands = Figures.of(every_all)
    for p in parts:
        out.expected += p.expected
        out.received += p.received
        out.clients += p.clients
        out.generator_cpu_s += p.cpu_s
        out.send_lag_max_ms = max(out.send_lag_max_ms, p.send_lag_max_ms)
        out.errors += p.errors
        for k, v in p.statuses.items():
            out.statuses[k] = out.statuses.get(k, 0) + v
    return out


def run(
    kind: ServerKind, cfg: MeetingConfig, log_dir: Path, profile_dir: Path | None = None
) -> MeetingResult:
    """Start a fresh ``kind`` server (and the floor), run the four phases, stop both."""
    raise_nofile(65536)
    started = time.monotonic()
    res = MeetingResult(server=kind, title=cfg.title)
    for k, v in COMMAND_LIMITS.items():
        os.environ.setdefault(k, v)
    server = servers.start(kind, log_dir)
    n_tokens = cfg.throughput_reviews * cfg.throughput_people
    floor_tokens = [secrets.token_urlsafe(24) for _ in range(n_tokens)]
    floor: FloorServer | None = None
    redis_floor: FloorServer | None = None
    ctx = mp.get_context("spawn")
    procs: list[Any] = []
    conns: list[Connection] = []
    pids, redis_pid = server.pids, server.redis_pid
    try:
        floor = FloorServer(log_dir, floor_tokens)
        if server.redis_url is not None:  # the same deployment shape, without our work
            redis_floor = FloorServer(log_dir, floor_tokens, len(pids), server.redis_url)
        for plan in _plans(cfg, server.target, floor, floor_tokens, redis_floor):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=gen_main, args=(plan, child), daemon=True)
            p.start()
            child.close()
            procs.append(p)
            conns.append(parent)
        _recv_all(conns, "joined", 300)
        profiler = _profiler(profile_dir, kind, "throughput", pids[0], True)
        sides = {"floor": (floor.pids, None), "throughput": (pids, redis_pid)}
        if redis_floor is not None:
            sides["redis-floor"] = (redis_floor.pids, redis_pid)
        hammered = _by_turns(cfg, conns, sides, profiler)
        res.floor, res.ours = hammered["floor"], hammered["throughput"]
        res.redis_floor = hammered.get("redis-floor")
        for f in (floor, redis_floor):
            if f is not None:
                f.stop()
        floor = redis_floor = None
        ready = _go(conns, "connect", 600)
        res.connected = sum(int(r["connected"]) for r in ready.values())
        res.errors += [e for r in ready.values() for e in r["errors"]]
        if res.errors:
            raise RuntimeError(f"set-up failed: {res.errors[0]}")
        for name in ("seen", "reveal"):
            profiler = _profiler(profile_dir, kind, name, server.pid, name == "seen")
            bases = [f"http://{server.target.host}:{p}" for p in server.target.ports]
            phase = Phase(pids, redis_pid, bases)
            timeout = cfg.seen_s + cfg.drain_s + cfg.reveal_reviews * cfg.reveal_gap_s + 300
            s = _seen(list(_go(conns, name, timeout).values()))
            if profiler is not None:
                profiler.stop()
            s.server_cpu_s, s.redis_cpu_s, s.others_cpu_s = phase.end(s.generator_cpu_s)
            s.loop_stalls = phase.stalls()
            setattr(res, name, s)
        for c in conns:
            c.send(("exit", 0))
        if not server.alive():
            res.errors.insert(0, server.exits())
    except Exception as exc:
        res.errors.insert(0, f"run failed: {exc}"[:300])
    finally:
        stop_workers(conns, procs)
        for f in (floor, redis_floor):
            if f is not None:
                f.stop()
        server.stop()
    res.wall_s = time.monotonic() - started
    return res


def _by_turns(
    cfg: MeetingConfig,
    conns: list[Connection],
    sides: dict[str, tuple[list[int], int | None]],
    profiler: profiling.Profiler | None,
) -> dict[str, Hammered]:
    """The floor(s) and ours hammered by turns, ``cfg.throughput_turns`` slices each; each
    side's figures over all its slices. ``sides``: per phase name, the processes whose CPU
    it costs and its Redis (whose CPU is left out of the others'). A side's first slice
    warms up for ``cfg.warmup_s`` (rooms load, connections open), the later ones for a
    quarter of it."""
    slices = max(1, cfg.throughput_turns)
    seconds = cfg.throughput_s / slices
    parts: dict[str, list[HammerResult]] = {name: [] for name in sides}
    cpu = {name: [0.0, 0.0] for name in sides}  # server CPU s, others' CPU s
    floors = [name for name in ("floor", "redis-floor") if name in sides]
    for name in turns(slices, floors):
        warmup = cfg.warmup_s if not parts[name] else cfg.warmup_s / 4
        phase = Phase(*sides[name])
        done = list(_go(conns, name, warmup + seconds + 120, (warmup, seconds)).values())
        server_s, _, others_s = phase.end(sum(p.cpu_s for p in done))
        parts[name] += done
        cpu[name][0] += server_s
        cpu[name][1] += others_s
    if profiler is not None:
        profiler.stop()
    out: dict[str, Hammered] = {}
    for name in sides:
        h = out[name] = _hammered(parts[name], cfg.throughput_s)
        h.server_cpu_s, h.others_cpu_s = cpu[name]
    return out


def _profiler(
    profile_dir: Path | None, kind: str, phase: str, pid: int, wanted: bool
) -> profiling.Profiler | None:
    if profile_dir is None or not wanted:
        return None
    return profiling.Profiler(pid, profile_dir / f"{kind}-meeting-{phase}.txt")


# --- reporting ----------------------------------------------------------------------------


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _stalls(counted: dict[str, int]) -> str:
    """The server's loop stalls in a phase, longest last (nothing for an older build)."""
    if not counted:
        return ""
    over = "/".join(counted)
    return f"; server loop stalls > {over} ms: " + "/".join(str(n) for n in counted.values())


def _redis_floor(r: MeetingResult) -> str:
    """The cluster's own floor (its processes, one HSET a note), where there is one."""
    rf = r.redis_floor
    if rf is None or r.redis_ratio is None:
        return ""
    return (
        f"; floor on Redis (same processes, one HSET) "
        f"{rf.per_s:,.0f}/s (p99 {_ms(rf.http.p99_ms)} ms, server CPU {rf.server_cpu_s:.1f} s),"
        f" ours/that {r.redis_ratio:.2f} ({1 / r.redis_ratio:.2f}x its cost)"
    )


def summary(r: MeetingResult) -> str:
    f, o, s, rv = r.floor, r.ours, r.seen, r.reveal
    ratio = "-" if r.ratio is None else f"{1 / r.ratio:.2f}x the floor's cost"
    lines = [
        f"notes/s {o.per_s:,.0f} (HTTP p50 {_ms(o.http.p50_ms)} / p99 {_ms(o.http.p99_ms)} ms, "
        f"{o.non_2xx} non-2xx; server CPU {o.server_cpu_s:.1f} s, generator {o.generator_cpu_s:.1f}"
        f" s, others {o.others_cpu_s:.1f} s); floor {f.per_s:,.0f}/s (p50 {_ms(f.http.p50_ms)} / "
        f"p99 {_ms(f.http.p99_ms)} ms, generator {f.generator_cpu_s:.1f} s); ours/floor "
        f"{'-' if r.ratio is None else f'{r.ratio:.2f}'} ({ratio})" + _redis_floor(r),
        f"seen by all: p50 {_ms(s.all_commands.p50_ms)} / p99 {_ms(s.all_commands.p99_ms)} / max "
        f"{_ms(s.all_commands.max_ms)} ms over {s.all_commands.samples} commands, delivered "
        f"{s.received}/{s.expected} to {s.clients} clients (x3 docs); server CPU "
        f"{s.server_cpu_s:.1f} s"
        + (f", Redis {s.redis_cpu_s:.1f} s" if s.redis_cpu_s is not None else "")
        + f", generator {s.generator_cpu_s:.1f} s, others {s.others_cpu_s:.1f} s, send lag max "
        f"{s.send_lag_max_ms:.0f} ms" + _stalls(s.loop_stalls),
    ]
    for kind, fig in s.http.items():
        seen = s.seen_by_all.get(kind)
        lines.append(
            f"  {kind:6} HTTP p50 {_ms(fig.p50_ms)} / p99 {_ms(fig.p99_ms)} ms ({fig.samples})"
            + (
                f"; seen by all p50 {_ms(seen.p50_ms)} / p99 {_ms(seen.p99_ms)} ms"
                if seen
                else "; shown with others' (held)"
            )
        )
    rf = rv.seen_by_all.get("reveal", Figures())
    each = rv.seen_each.get("reveal", Figures())
    lines.append(
        f"reveal of {rf.samples} sections: every client has all notes p50 {_ms(rf.p50_ms)} / p99 "
        f"{_ms(rf.p99_ms)} / max {_ms(rf.max_ms)} ms (per client p99 {_ms(each.p99_ms)} ms), HTTP"
        f" p99 {_ms(rv.http.get('reveal', Figures()).p99_ms)} ms, delivered "
        f"{rv.received}/{rv.expected}"
    )
    lines.append(f"statuses {dict(sorted(s.statuses.items()))}; {r.wall_s:.0f} s wall")
    return "\n   ".join(lines)


def medians(runs: list[MeetingResult]) -> str:
    def med(values: list[float | None], digits: int = 1) -> str:
        known = [v for v in values if v is not None]
        if not known:
            return "-"
        spread = f" ({min(known):.{digits}f}-{max(known):.{digits}f})" if len(known) > 1 else ""
        return f"{statistics.median(known):.{digits}f}{spread}"

    return (
        f"median of {len(runs)}: notes/s {med([r.ours.per_s for r in runs])}, floor "
        f"{med([r.floor.per_s for r in runs])}, ours/floor {med([r.ratio for r in runs], 2)}"
        + (
            f", floor on Redis {med([r.redis_floor.per_s for r in runs if r.redis_floor])}, "
            f"ours/that {med([r.redis_ratio for r in runs], 2)}"
            if any(r.redis_floor for r in runs)
            else ""
        )
        + "; "
        f"seen-by-all p99 {med([r.seen.all_commands.p99_ms for r in runs])} ms; reveal p99 "
        f"{med([r.reveal.seen_by_all.get('reveal', Figures()).p99_ms for r in runs])} ms"
    )


def run_selected(
    kinds: list[ServerKind], repeat: int, scale: float, duration: float | None,
    out: Path | None, profile: bool = False,
) -> int:  # fmt: skip
    """Run the scenario ``repeat`` times per kind, kinds interleaved; 1 if a run failed or
    lost a change."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    cfg = MeetingConfig.scaled(scale, duration)
    log_dir = RESULTS / "logs" / stamp
    profile_dir = RESULTS / "profiles" / stamp if profile else None
    record: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "exe": str(servers.debrief_executable()),
        "config": asdict(cfg),
        "runs": {},
    }
    runs: dict[str, list[MeetingResult]] = {}
    failed = False
    for i in range(repeat):
        for kind in kinds:
            print(f"== meeting on {kind} (run {i + 1}/{repeat}): {cfg.title}", flush=True)
            r = run(kind, cfg, log_dir, profile_dir)
            print(f"   {summary(r)}", flush=True)
            for e in r.errors[:3]:
                print(f"   ! {e}", flush=True)
            failed = failed or bool(r.errors) or r.seen.received != r.seen.expected
            runs.setdefault(kind, []).append(r)
    for name, rs in runs.items():
        if len(rs) > 1:
            print(f"   {name}: {medians(rs)}", flush=True)
        record["runs"][name] = [r.to_json() for r in rs]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = out or RESULTS / f"meeting-{stamp}.json"
    path.write_text(json.dumps(record, indent=1, default=str) + "\n")
    print(f"results: {path}")
    return 1 if failed else 0
