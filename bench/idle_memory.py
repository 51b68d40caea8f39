"""Where the memory of an idle websocket goes (issue 15).

Starts a real ``debrief serve`` (SQLite, on a free loopback port), creates DOCS reviews,
joins CLIENTS participants, then opens their websockets with the bench's own clients
(loadgen/client.py: rawws, sync step 1 and 2 as in the ``idle`` scenario): first one per
doc (which opens the rooms), then the rest. It reads the server's RSS after the joins,
after the rooms opened and after everything connected and sat idle for ``--hold`` s.

With ``--trace`` the server runs with tracemalloc on (``--frames`` deep) and dumps a
snapshot at each of those three points (SIGUSR2, handled by the small launcher below,
so the server itself has no hook for it; tracing starts at the first). The growth
from "rooms open" to "all connected", divided by the clients, is what one idle
connection keeps alive; it is attributed to the innermost frame of the traceback in
uvicorn, websockets, starlette, pycrdt or debrief (who asked for the memory: an
asyncio.Queue made by uvicorn counts for uvicorn), or to asyncio/stdlib when no such
frame exists. tracemalloc sees Python's allocators only: libuv's own structures
(uvloop) and the kernel's socket buffers are not in it, and the kernel's are not in
RSS either. RSS figures from a ``--trace`` run
include tracemalloc's own overhead; take RSS from a run without it.

    .venv/bin/python bench/idle_memory.py --clients 5000 --docs 100
    .venv/bin/python bench/idle_memory.py --clients 2000 --docs 40 --trace
    .venv/bin/python bench/idle_memory.py --pythonpath /tmp/other/server   # another build
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from array import array
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from loadgen import procstat, servers  # noqa: E402
from loadgen.client import BenchClient  # noqa: E402
from loadgen.debrief_api import create_reviews, join_all, ws_url  # noqa: E402
from loadgen.plan import ClientPlan, Target  # noqa: E402

# Runs the server with a SIGUSR2 handler that writes a tracemalloc snapshot (after a
# collection: what is alive, not garbage waiting for the collector) to $IDLE_DUMP.<n>.
# Tracing starts at the first signal, not at start-up: traced imports take minutes.
LAUNCHER = """
import gc, os, signal, sys, tracemalloc
dumps = [0]
def dump(signum, frame):
    path = f"{os.environ['IDLE_DUMP']}.{dumps[0]}"
    dumps[0] += 1
    gc.collect()
    frames = int(os.environ.get("IDLE_TRACE", "0"))
    if frames and not tracemalloc.is_tracing():
        tracemalloc.start(frames)
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(path)
    open(path + ".done", "w").close()
signal.signal(signal.SIGUSR2, dump)
from debrief.cli import main
sys.argv[0] = "debrief"
sys.exit(main())
"""

OWNERS = (
    ("/debrief/", "debrief"),
    ("/uvicorn/", "uvicorn"),
    ("/websockets/", "websockets"),
    ("/starlette/", "starlette"),
    ("/pycrdt/", "pycrdt"),
    ("/httptools/", "httptools"),
)


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def start_server(args: argparse.Namespace, dump: Path) -> tuple[subprocess.Popen[bytes], Target]:
    port = servers.free_port()
    data = Path(tempfile.mkdtemp(prefix="debrief-idle-"))
    env = servers._server_env(port)
    env["IDLE_DUMP"] = str(dump)
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    if args.trace:
        env["IDLE_TRACE"] = str(args.frames)
    cmd = [sys.executable, "-c", LAUNCHER, "serve", "--host", servers.HOST, "--port", str(port)]
    cmd += ["--data", str(data), "--log-level", "warning"]
    log = (Path(tempfile.gettempdir()) / f"debrief-idle-{port}.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    target = Target("debrief", servers.HOST, (port,))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited; see {log.name}")
        try:
            import urllib.request

            with urllib.request.urlopen(f"{target.http_base}/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return proc, target
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server not ready")


def checkpoint(proc: subprocess.Popen[bytes], dump: Path, n: int) -> tuple[int, Path]:
    """The server's RSS (KiB) now, and its snapshot file (written when tracing, after a
    garbage collection)."""
    rss = procstat.status_kib(proc.pid, "VmRSS")
    path = Path(f"{dump}.{n}")
    proc.send_signal(signal.SIGUSR2)
    done = Path(f"{path}.done")
    deadline = time.monotonic() + 120
    while not done.exists():
        if time.monotonic() > deadline:
            raise RuntimeError("no snapshot from the server")
        time.sleep(0.05)
    after_gc = procstat.status_kib(proc.pid, "VmRSS")
    if after_gc < rss - 256:
        print(f"(checkpoint {n}: RSS {rss} KiB, after gc.collect {after_gc} KiB)")
    return rss, path


async def connect_all(clients: list[BenchClient], concurrency: int = 100) -> int:
    sem = asyncio.Semaphore(concurrency)

    async def one(c: BenchClient) -> bool:
        async with sem:
            return await c.connect(60.0)

    return sum(await asyncio.gather(*(one(c) for c in clients)))


def owner_of(trace: tracemalloc.Traceback) -> tuple[str, str]:
    """(owner, file:line): the innermost frame in a library we name, else the innermost."""
    for frame in reversed(trace):  # tracemalloc lists the oldest call first
        for marker, owner in OWNERS:
            if marker in frame.filename:
                short = frame.filename.split(marker, 1)[1]
                return owner, f"{owner}/{short}:{frame.lineno}"
    frame = trace[-1]
    return "asyncio/stdlib", f"{Path(frame.filename).name}:{frame.lineno}"


def breakdown(before: Path, after: Path, clients: int, top: int) -> str:
    old = tracemalloc.Snapshot.load(str(before))
    new = tracemalloc.Snapshot.load(str(after))
    diff = new.compare_to(old, "traceback")
    by_owner: dict[str, int] = defaultdict(int)
    by_site: dict[str, int] = defaultdict(int)
    by_line: dict[str, int] = defaultdict(int)
    for stat in diff:
        owner, site = owner_of(stat.traceback)
        by_owner[owner] += stat.size_diff
        by_site[site] += stat.size_diff
        frame = stat.traceback[-1]
        by_line[f"{frame.filename.rsplit('site-packages/', 1)[-1]}:{frame.lineno}"] += (
            stat.size_diff
        )
    total = sum(by_owner.values())
    lines = [f"tracemalloc growth: {total / clients:.0f} B per connection ({clients} clients)"]
    lines.append("by owner (innermost frame in a named library):")
    for owner, size in sorted(by_owner.items(), key=lambda kv: -kv[1]):
        lines.append(f"  {size / clients:8.0f} B  {owner}")
    lines.append(f"by call site in that library (top {top}):")
    for site, size in sorted(by_site.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {size / clients:8.0f} B  {site}")
    lines.append(f"by allocating line (top {top}):")
    for line, size in sorted(by_line.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {size / clients:8.0f} B  {line}")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> str:
    dump = Path(tempfile.mkdtemp(prefix="idle-dump-")) / "snap"
    proc, target = start_server(args, dump)
    clients: list[BenchClient] = []
    try:
        docs = create_reviews(target, args.docs, "idle")
        plans = [
            ClientPlan(cid=i, doc=i % args.docs, first=i < args.docs) for i in range(args.clients)
        ]
        tokens = await join_all([target] * len(plans), [docs[p.doc].invite for p in plans])
        await asyncio.sleep(1.0)
        rss_joined, snap_joined = checkpoint(proc, dump, 0)
        lat: array[int] = array("q")
        for plan, token in zip(plans, tokens, strict=True):
            doc = docs[plan.doc]
            url = ws_url(target, doc)
            clients.append(BenchClient(plan, target, url, doc.name, token, lat, lambda: None))
        warm = await connect_all([c for c in clients if c.plan.first])
        await asyncio.sleep(1.0)
        rss_warm, snap_warm = checkpoint(proc, dump, 1)
        rest = await connect_all([c for c in clients if not c.plan.first])
        await asyncio.sleep(args.hold)
        rss_held, snap_held = checkpoint(proc, dump, 2)
        still = sum(c.is_open for c in clients)
        connected = warm + rest
        others = connected - warm
        out = [
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
            f"server: {args.pythonpath or 'this checkout'}, tracemalloc: "
            f"{f'{args.frames} frames' if args.trace else 'off'}",
            f"clients {args.clients} on {args.docs} docs: connected {connected}, "
            f"still open after {args.hold:g} s: {still}",
            f"RSS after joins {rss_joined / 1024:.1f} MiB, rooms open {rss_warm / 1024:.1f} MiB, "
            f"all idle {rss_held / 1024:.1f} MiB",
            f"RSS per client as bench `idle` (joins -> all idle): "
            f"{(rss_held - rss_joined) / max(connected, 1):.2f} KiB; per connection after the "
            f"rooms opened: {(rss_held - rss_warm) / max(others, 1):.2f} KiB",
        ]
        if args.trace:
            out.append(breakdown(snap_warm, snap_held, others, args.top))
            out.append("(joins -> rooms open, per doc:)")
            out.append(breakdown(snap_joined, snap_warm, warm, 8))
        return "\n".join(out)
    finally:
        for c in clients:
            await c.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--clients", type=int, default=5000)
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--hold", type=float, default=5.0, help="seconds idle before measuring")
    ap.add_argument("--trace", action="store_true", help="tracemalloc breakdown (inflates RSS)")
    ap.add_argument("--frames", type=int, default=30, help="tracemalloc traceback depth")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--pythonpath", default="", help="run the server from this source tree")
    args = ap.parse_args()
    raise_nofile()
    try:
        import uvloop

        print(uvloop.run(run(args)))
    except ImportError:
        print(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
