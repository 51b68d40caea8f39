"""`soak` (issue 14 item 4): connect-write-disconnect cycles; does the server's memory stay flat?

One cycle is what a browser tab that writes one thing and leaves does: open a websocket to a
review's ``timeline``, sync (step 1 both ways), write one update (a new ~100-byte key in the
``bench`` map, from a fresh doc, so a new client id), ask again (sync step 1) and wait for
the answer, which the server sends only after the update is stored, then close. Cycles go
round-robin over ``reviews`` reviews (each with ``sessions`` participants, taken in turn), with
``concurrency`` cycles in flight. The server runs with DEBRIEF_UNLOAD_GRACE=0.2 s (what the
tests use), so between two visits every room is unloaded and loaded again: the unload path
is what leaked. The server's RSS is read every ``sample_every`` cycles, and once more at the
end, when no room and no connection is left.

``run`` soaks twice, each on a fresh server: with growing data (the above: every cycle adds
a key and a client id, so the docs and the database grow) and with bounded data (each
participant keeps one client id per review and overwrites its own key). Growth that only
the first shows comes with the data; growth in the second would be a leak per cycle.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
import urllib.request
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from pycrdt import Doc, Map, TransactionEvent, create_sync_message, handle_sync_message
from websockets.asyncio.client import connect

from . import debrief_api, procstat, servers
from .noisy import metric
from .plan import DocRef, Target
from .wire import create_update_message
from .worker import _LOOP_FACTORY, raise_nofile

SYNC, STEP1, STEP2, AUTH = 0, 0, 1, 2
BOUNDED_IDS = 1_000_000  # client ids of the bounded variant: one per review and participant


@dataclass(frozen=True)
class SoakConfig:
    cycles: int = 20_000
    reviews: int = 300
    sessions: int = 4  # participants per review; a fresh client id per cycle, <= 200 each
    concurrency: int = 8
    sample_every: int = 1000
    unload_grace_s: float = 0.2
    # False: every cycle a fresh client id and a new key (the docs and the database grow
    # with every cycle). True: each participant keeps one client id per review and
    # overwrites its own key (a tab that reconnects), so the data stops growing after the
    # first visits: what is left of the slope is not the data.
    bounded: bool = False

    @property
    def title(self) -> str:
        if self.bounded:
            data = "bounded data (a kept client id, an overwritten key)"
        else:
            data = "growing data (a new client id and key each)"
        return (
            f"Soak: {self.cycles:,} connect-write-disconnect cycles over {self.reviews} reviews, "
            f"{self.concurrency} at a time, {data}"
        )


@dataclass
class SoakResult:
    scenario: str = "soak"
    server: str = "debrief"
    title: str = ""
    bounded: bool = False
    cycles_done: int = 0
    failed_cycles: int = 0
    rss_start_mib: float = 0.0  # after the joins, before the first cycle
    rss_warm_mib: float = 0.0  # after the first tenth of the cycles
    rss_end_mib: float = 0.0  # after the last cycle, rooms and connections gone
    peak_rss_mib: float = 0.0
    # the RSS split: anonymous (heap, native allocations) vs file/shared (SQLite's mmapped
    # WAL index, libraries), at start and end
    anon_start_mib: float = 0.0
    anon_end_mib: float = 0.0
    file_shmem_start_mib: float = 0.0
    file_shmem_end_mib: float = 0.0
    kib_per_1000: float | None = None  # slope of RSS over cycles, from the warm sample on
    # the same slope over each third of the cycles: growth that levels off (caches filling
    # up to their bound) falls from third to third, a leak per cycle does not
    kib_per_1000_by_third: list[float | None] = field(default_factory=list)
    # the database and its WAL at the end (the WAL once grew to hundreds of MB)
    db_mib: float = 0.0
    wal_mib: float = 0.0
    end_rooms: int | None = None
    end_connections: float | None = None
    samples: list[tuple[int, int]] = field(default_factory=list)  # (cycles, RSS KiB)
    cycles_per_s: float = 0.0
    server_cpu_s: float = 0.0
    machine_busy_s: float = 0.0  # CPU s the whole machine was busy during the cycles
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    # the same soak with bounded data, on a server of its own (set on the growing run)
    bounded_run: SoakResult | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class _Cycle:
    """One connect-sync-write-confirm-close cycle."""

    def __init__(self, url: str, token: str, key: str, client_id: int | None = None) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.key = key
        self.client_id = client_id  # None: a fresh one

    async def run(self) -> None:
        doc: Doc[Any] = Doc() if self.client_id is None else Doc(client_id=self.client_id)
        async with connect(
            self.url,
            additional_headers=self.headers,
            compression=None,
            ping_interval=None,
            max_size=None,
            open_timeout=30,
            close_timeout=5,
        ) as ws:
            await ws.send(create_sync_message(doc))
            await self._until_step2(ws, doc)
            update = b""

            def capture(event: TransactionEvent) -> None:
                nonlocal update
                update = event.update

            doc.observe(capture)
            doc.get("bench", type=Map)[self.key] = "x" * 100
            await ws.send(create_update_message(update))
            await ws.send(create_sync_message(doc))  # answered after the update is stored
            await self._until_step2(ws, doc)

    @staticmethod
    async def _until_step2(ws: Any, doc: Doc[Any]) -> None:
        async with asyncio.timeout(30):
            while True:
                frame = await ws.recv()
                if not isinstance(frame, bytes) or len(frame) < 2:
                    continue
                if frame[0] == AUTH:
                    raise RuntimeError("write refused")
                if frame[0] == SYNC and frame[1] == STEP1:
                    reply = handle_sync_message(frame[1:], doc)
                    if reply is not None:
                        await ws.send(reply)
                elif frame[0] == SYNC and frame[1] == STEP2:
                    return


def _healthz_rooms(target: Target) -> int | None:
    try:
        with urllib.request.urlopen(f"{target.http_base}/healthz", timeout=10) as resp:
            return int(json.loads(resp.read())["rooms"])
    except (OSError, ValueError, KeyError):
        return None


def _split_mib(pid: int) -> tuple[float, float]:
    anon = procstat.status_kib(pid, "RssAnon")
    other = procstat.status_kib(pid, "RssFile") + procstat.status_kib(pid, "RssShmem")
    return anon / 1024, other / 1024


def _slope_kib_per_1000(samples: list[tuple[int, int]]) -> float | None:
    if len(samples) < 2:
        return None
    xs = [float(c) for c, _ in samples]
    ys = [float(r) for _, r in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    if var == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 1000


def _slopes_by_third(samples: list[tuple[int, int]], cycles: int) -> list[float | None]:
    edges = [0, cycles // 3, 2 * cycles // 3, cycles]
    return [
        _slope_kib_per_1000([s for s in samples if lo <= s[0] <= hi])
        for lo, hi in itertools.pairwise(edges)
    ]


async def _cycles(
    cfg: SoakConfig, target: Target, docs: list[DocRef], pid: int, res: SoakResult
) -> None:
    tokens: list[list[str]] = []
    for d in docs:
        tokens.append(
            await debrief_api.join_all([target] * cfg.sessions, [d.invite] * cfg.sessions)
        )
    res.rss_start_mib = procstat.sample(pid).rss_kib / 1024
    res.anon_start_mib, res.file_shmem_start_mib = _split_mib(pid)
    res.samples.append((0, procstat.sample(pid).rss_kib))
    next_cycle = 0
    warm_at = max(1, cfg.cycles // 10)
    errors: dict[str, int] = {}
    started = time.monotonic()

    async def lane() -> None:
        nonlocal next_cycle
        while next_cycle < cfg.cycles:
            n = next_cycle
            next_cycle += 1
            r = n % len(docs)
            p = (n // len(docs)) % cfg.sessions
            token = tokens[r][p]
            url = debrief_api.ws_url(target, docs[r])
            if cfg.bounded:  # the same tab coming back: its id, its key
                cycle = _Cycle(url, token, f"p:{p}", BOUNDED_IDS + r * cfg.sessions + p)
            else:
                cycle = _Cycle(url, token, f"s:{n}")
            try:
                await cycle.run()
            except Exception as exc:
                res.failed_cycles += 1
                why = f"{type(exc).__name__}: {exc}"[:120]
                errors[why] = errors.get(why, 0) + 1
            res.cycles_done += 1
            done = res.cycles_done
            if done % cfg.sample_every == 0 or done == warm_at:
                rss = procstat.sample(pid).rss_kib
                res.samples.append((done, rss))
                if done == warm_at:
                    res.rss_warm_mib = rss / 1024

    await asyncio.gather(*(lane() for _ in range(cfg.concurrency)))
    res.cycles_per_s = res.cycles_done / max(1e-9, time.monotonic() - started)
    res.errors.extend(f"{n}x {e}" for e, n in list(errors.items())[:5])


def run(cfg: SoakConfig, log_dir: Path) -> SoakResult:
    """The soak with growing data, then with bounded data on a fresh server: growth in
    the first that the second does not show comes with the data, not with the cycles."""
    res = run_one(replace(cfg, bounded=False), log_dir)
    res.bounded_run = bounded = run_one(replace(cfg, bounded=True), log_dir)
    # the caller shows and judges res.errors only: a failed bounded soak fails the run
    failed = [e for e in bounded.errors if e.startswith("run failed")]
    res.errors[:0] = [f"run failed (bounded data): {e}" for e in failed]
    res.errors += [f"bounded data: {e}" for e in bounded.errors if e not in failed]
    return res


def _file_mib(folder: Path | None, name: str) -> float:
    try:
        return (folder / name).stat().st_size / 2**20 if folder else 0.0
    except OSError:
        return 0.0


def run_one(cfg: SoakConfig, log_dir: Path) -> SoakResult:
    raise_nofile(65536)
    started = time.monotonic()
    res = SoakResult(title=cfg.title, bounded=cfg.bounded)
    env = {"DEBRIEF_UNLOAD_GRACE": str(cfg.unload_grace_s)}
    server = servers.start("debrief", log_dir, env=env)
    try:
        docs = debrief_api.create_reviews(server.target, cfg.reviews, "bench soak")
        cpu0 = procstat.sample(server.pid).cpu_s
        busy0 = procstat.system_busy_s()
        with asyncio.Runner(loop_factory=_LOOP_FACTORY) as runner:
            runner.run(_cycles(cfg, server.target, docs, server.pid, res))
        res.server_cpu_s = procstat.sample(server.pid).cpu_s - cpu0
        res.machine_busy_s = procstat.system_busy_s() - busy0
        deadline = time.monotonic() + 30  # rooms unload after the grace and their flush
        while time.monotonic() < deadline:
            res.end_rooms = _healthz_rooms(server.target)
            res.end_connections = metric(server.target, "debrief_connections")
            if res.end_rooms == 0 and res.end_connections == 0:
                break
            time.sleep(0.2)
        time.sleep(1.0)
        end = procstat.sample(server.pid)
        res.rss_end_mib = end.rss_kib / 1024
        res.anon_end_mib, res.file_shmem_end_mib = _split_mib(server.pid)
        res.peak_rss_mib = end.hwm_kib / 1024
        warm = max(1, cfg.cycles // 10)
        res.kib_per_1000 = _slope_kib_per_1000([s for s in res.samples if s[0] >= warm])
        res.kib_per_1000_by_third = _slopes_by_third(res.samples, cfg.cycles)
        res.db_mib = _file_mib(server.data_dir, "debrief.sqlite3")
        res.wal_mib = _file_mib(server.data_dir, "debrief.sqlite3-wal")
        if not server.alive():
            res.errors.insert(0, server.exits())
    except Exception as exc:
        res.errors.insert(0, f"run failed: {exc}"[:300])
    finally:
        server.stop()
    res.wall_s = time.monotonic() - started
    return res


def summary(r: SoakResult) -> str:
    text = f"growing data: {_summary_one(r)}"
    if r.bounded_run is not None:
        text += f"\n     bounded data: {_summary_one(r.bounded_run)}"
    return text


def _summary_one(r: SoakResult) -> str:
    slope = "-" if r.kib_per_1000 is None else f"{r.kib_per_1000:.0f}"
    thirds = " / ".join("-" if k is None else f"{k:.0f}" for k in r.kib_per_1000_by_third)
    return (
        f"{r.cycles_done} cycles ({r.failed_cycles} failed, {r.cycles_per_s:.0f}/s): RSS "
        f"{r.rss_start_mib:.1f} MiB at start, {r.rss_warm_mib:.1f} after the first tenth, "
        f"{r.rss_end_mib:.1f} at the end (rooms {r.end_rooms}, connections "
        f"{r.end_connections}); {slope} KiB per 1,000 cycles ({thirds} by third); "
        f"anon {r.anon_start_mib:.1f} -> "
        f"{r.anon_end_mib:.1f}, file+shmem {r.file_shmem_start_mib:.1f} -> "
        f"{r.file_shmem_end_mib:.1f} MiB; peak {r.peak_rss_mib:.0f} MiB; database "
        f"{r.db_mib:.1f} MiB, WAL {r.wal_mib:.1f} MiB; "
        f"server CPU {r.server_cpu_s:.0f} s, {r.wall_s:.0f} s wall"
    )


def medians(runs: list[SoakResult]) -> str:
    """The median slope and RSS of each variant over ``runs``."""

    def line(rs: list[SoakResult]) -> str:
        return (
            f"{_median([r.kib_per_1000 for r in rs])} KiB per 1,000 cycles; RSS start "
            f"{_median([r.rss_start_mib for r in rs])} -> end "
            f"{_median([r.rss_end_mib for r in rs])} MiB; WAL at the end "
            f"{_median([r.wal_mib for r in rs])} MiB"
        )

    text = f"median of {len(runs)}: growing data {line(runs)}"
    bounded = [r.bounded_run for r in runs if r.bounded_run is not None]
    if bounded:
        text += f"; bounded data {line(bounded)}"
    return text


def _median(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    spread = f" ({min(known):.1f}-{max(known):.1f})" if len(known) > 1 else ""
    return f"{statistics.median(known):.1f}{spread}"
