"""One generator process: join, connect its clients, wait for the start signal, run, report.

Talks to the harness over a multiprocessing pipe: it sends ``("ready", info)``, receives
``("start", t0_ns)`` (or ``("abort", None)``) and finally sends ``("done", WorkerResult)``.
All processes share CLOCK_MONOTONIC, so ``t0_ns`` and the send stamps mean the same everywhere.
"""

from __future__ import annotations

import asyncio
import resource
import time
from array import array
from multiprocessing.connection import Connection
from typing import Any

from . import quiet_gc
from .client import BenchClient
from .debrief_api import join_all, ws_url
from .phases import run_awareness, run_idle_check, run_storm, run_updates
from .plan import ClientPlan, WorkerPlan, WorkerResult, Workload
from .seed import seed_doc

try:  # uvloop keeps the generator light; plain asyncio works too
    import uvloop

    _LOOP_FACTORY: Any = uvloop.new_event_loop
except ImportError:  # pragma: no cover
    _LOOP_FACTORY = None


def raise_nofile(limit: int) -> None:
    """Raise RLIMIT_NOFILE as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, limit), hard) if hard != resource.RLIM_INFINITY else max(soft, limit)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def worker_main(plan: WorkerPlan, conn: Connection) -> None:
    """Entry point of a generator process."""
    raise_nofile(plan.nofile)
    with asyncio.Runner(loop_factory=_LOOP_FACTORY) as runner:
        try:
            result = runner.run(_run(plan, conn))
        except Exception as exc:
            conn.send(("crashed", f"generator {plan.index}: {exc!r}"[:300]))
        else:
            conn.send(("done", result))
    conn.close()


async def _tokens(plan: WorkerPlan, extra: int) -> list[str]:
    if not plan.target.debrief:
        return [""] * (len(plan.clients) + extra)
    invites = [plan.docs[c.doc].invite for c in plan.clients]
    invites += [plan.docs[0].invite] * extra
    # Over a cluster each client joins through the process after its own, so every session
    # is used on another process than the one that issued it (as behind a load balancer).
    targets = [plan.target.for_client(c.slot + 1) for c in plan.clients]
    targets += [plan.target] * extra
    return await join_all(targets, invites, name_prefix=f"w{plan.index}")


def _make_client(
    plan: WorkerPlan, cp: ClientPlan, token: str, lat: array[int], done: Any
) -> BenchClient:
    doc = plan.docs[cp.doc]
    target = plan.target.for_client(cp.slot)
    return BenchClient(cp, target, ws_url(target, doc), doc.name, token, lat, done)


async def _run(plan: WorkerPlan, conn: Connection) -> WorkerResult:
    loop = asyncio.get_running_loop()
    wl = plan.workload
    result = WorkerResult(index=plan.index, clients=len(plan.clients))
    latencies: array[int] = array("q")
    all_done = asyncio.Event()
    pending = [0]

    def one_complete() -> None:
        pending[0] -= 1
        if pending[0] <= 0:
            all_done.set()

    extra = 2 if plan.seeder else 0
    tokens = await _tokens(plan, extra)
    conn.send(("joined", None))  # the harness takes its baseline after the joins
    await loop.run_in_executor(None, conn.recv)
    clients = [
        _make_client(plan, cp, tokens[i], latencies, one_complete)
        for i, cp in enumerate(plan.clients)
    ]
    seeder: BenchClient | None = None
    if plan.seeder:

        def helper(cid: int, token: str) -> BenchClient:
            cp = ClientPlan(cid=cid, doc=0, verify=True)
            return _make_client(plan, cp, token, array("q"), lambda: None)

        seeder = await seed_doc(helper(-1, tokens[-2]), helper(-2, tokens[-1]), wl)
        if seeder is None:
            result.errors.append("seeding the doc failed")

    if wl.mode != "storm":
        # Open each room with one client first: pycrdt's server hangs clients that race to
        # open a room, and a cold room is not what the timed phase is about.
        result.connected = await _connect(wl, [c for c in clients if c.plan.first])
    conn.send(("warm", None))
    cmd, _ = await loop.run_in_executor(None, conn.recv)
    if wl.mode != "storm" and cmd == "connect":
        result.connected += await _connect(wl, [c for c in clients if not c.plan.first])
    quiet_gc.settle()
    conn.send(("ready", {"connected": result.connected, "errors": _errors(clients, result)[:5]}))

    cmd, t0 = await loop.run_in_executor(None, conn.recv)
    if cmd != "start":
        await _close_all(clients, seeder)
        result.errors.append("aborted by the harness")
        return result

    cpu0 = cpu_seconds()
    with quiet_gc.collector_paused():
        if wl.mode == "updates":
            await run_updates(plan, clients, t0, pending, all_done, result)
        elif wl.mode == "awareness":
            await run_awareness(plan, clients, t0, pending, all_done, result)
        elif wl.mode == "storm":
            await run_storm(plan, clients, t0, result, latencies)
        else:
            run_idle_check(clients, result)
    result.cpu_s = cpu_seconds() - cpu0
    result.latencies_us = latencies.tobytes()
    result.errors = _errors(clients, result)
    await _close_all(clients, seeder)
    return result


async def _connect(wl: Workload, clients: list[BenchClient]) -> int:
    sem = asyncio.Semaphore(wl.connect_concurrency)

    async def connect(c: BenchClient) -> bool:
        async with sem:
            return await c.connect(wl.connect_timeout_s)

    return sum(await asyncio.gather(*(connect(c) for c in clients)))


def _errors(clients: list[BenchClient], result: WorkerResult) -> list[str]:
    errors = list(result.errors)
    for c in clients:
        errors.extend(c.errors)
    return errors


async def _close_all(clients: list[BenchClient], seeder: BenchClient | None) -> None:
    everyone = [*clients, *([seeder] if seeder else [])]
    deadline = time.monotonic() + 10
    for i in range(0, len(everyone), 200):
        if time.monotonic() > deadline:
            break
        await asyncio.gather(*(c.close() for c in everyone[i : i + 200]), return_exceptions=True)
