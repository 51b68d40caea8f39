"""The timed phase of each scenario mode, run inside a generator process."""

from __future__ import annotations

import asyncio
import time
from array import array
from collections.abc import Awaitable, Callable

from .client import BenchClient, CursorMover, Expectation, UpdateWriter
from .plan import WorkerPlan, WorkerResult

GOLDEN = 0.6180339887


async def _paced(
    send: Callable[[int], Awaitable[None]], count: int, t0: int, rate: float, phase: float
) -> float:
    """Call ``send(seq)`` ``count`` times at ``rate`` per second from ``t0``; return max lag ms."""
    lag = 0.0
    period_ns = 1e9 / rate
    for seq in range(count):
        due = t0 + int((seq + phase) * period_ns)
        wait = (due - time.monotonic_ns()) / 1e9
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            lag = max(lag, -wait * 1000)
        await send(seq)
    return lag


async def _sender(
    client: BenchClient,
    send: Callable[[int], Awaitable[None]],
    count: int,
    t0: int,
    rate: float,
    phase: float,
    result: WorkerResult,
) -> float:
    try:
        return await _paced(send, count, t0, rate, phase)
    except Exception as exc:
        result.errors.append(f"sender {client.plan.cid}: {type(exc).__name__}: {exc}"[:200])
        return 0.0


async def _wait_delivery(
    t0: int,
    plan: WorkerPlan,
    senders: list[asyncio.Task[float]],
    all_done: asyncio.Event,
    pending: list[int],
    result: WorkerResult,
) -> None:
    wl = plan.workload
    lags = await asyncio.gather(*senders)
    result.send_lag_max_ms = max(lags, default=0.0)
    deadline = t0 / 1e9 + wl.duration_s + wl.drain_s
    if pending[0] > 0:
        try:
            await asyncio.wait_for(all_done.wait(), max(0.1, deadline - time.monotonic_ns() / 1e9))
        except TimeoutError:
            pass


async def run_updates(
    plan: WorkerPlan,
    clients: list[BenchClient],
    t0: int,
    pending: list[int],
    all_done: asyncio.Event,
    result: WorkerResult,
) -> None:
    """Writers add one map key per update; everyone else (and other writers) must get each."""
    wl = plan.workload
    count = wl.sends_per_sender
    for c in clients:
        if c.is_open:
            c.expect = Expectation(plan.doc_writers.get(c.plan.doc, []), c.plan.writer, count)
            result.expected += c.expect.expected
            if c.expect.expected:
                pending[0] += 1
        else:
            senders_n = len([w for w in plan.doc_writers.get(c.plan.doc, []) if w != c.plan.writer])
            result.expected += senders_n * count
    if pending[0] == 0:
        all_done.set()
    senders = [
        asyncio.create_task(
            _sender(
                c,
                UpdateWriter(c, wl.payload_bytes).send,
                count,
                t0,
                wl.rate_hz,
                (c.plan.writer * GOLDEN) % 1.0,
                result,
            )
        )
        for c in clients
        if c.plan.is_writer and c.is_open
    ]
    await _wait_delivery(t0, plan, senders, all_done, pending, result)
    result.received = sum(c.expect.received for c in clients if c.expect is not None)
    for c in clients:
        if c.plan.verify and c.expect is not None:
            want = {(w, s) for w in plan.doc_writers.get(c.plan.doc, []) for s in range(count)}
            if want <= c.bench_keys():
                result.verified_ok += 1
            else:
                result.verified_failed += 1


async def run_awareness(
    plan: WorkerPlan,
    clients: list[BenchClient],
    t0: int,
    pending: list[int],
    all_done: asyncio.Event,
    result: WorkerResult,
) -> None:
    """Every client moves its cursor at ``rate_hz``; every other client must see each move."""
    wl = plan.workload
    count = wl.sends_per_sender
    for c in clients:
        senders_in_doc = plan.doc_senders.get(c.plan.doc, [])
        if c.is_open:
            c.awareness_expect = Expectation(senders_in_doc, c.plan.cid, count, cumulative=True)
            result.expected += c.awareness_expect.expected
            pending[0] += 1
        else:
            result.expected += (len(senders_in_doc) - 1) * count
    if pending[0] == 0:
        all_done.set()
    senders = [
        asyncio.create_task(
            _sender(
                c, CursorMover(c).send, count, t0, wl.rate_hz, (c.plan.cid * GOLDEN) % 1.0, result
            )
        )
        for c in clients
        if c.is_open
    ]
    await _wait_delivery(t0, plan, senders, all_done, pending, result)
    expects = [c.awareness_expect for c in clients if c.awareness_expect is not None]
    result.received = sum(e.delivered for e in expects)
    result.superseded = sum(e.superseded for e in expects)


async def run_storm(
    plan: WorkerPlan,
    clients: list[BenchClient],
    t0: int,
    result: WorkerResult,
    latencies: array[int],
) -> None:
    """Every client connects at ``t0``; latency = time until its sync step 2 arrived."""
    wl = plan.workload
    sem = asyncio.Semaphore(wl.connect_concurrency)
    wait = (t0 - time.monotonic_ns()) / 1e9
    if wait > 0:
        await asyncio.sleep(wait)

    async def join(c: BenchClient) -> bool:
        async with sem:
            return await c.connect(wl.connect_timeout_s)

    oks = await asyncio.gather(*(join(c) for c in clients))
    result.connected = sum(oks)
    result.expected = len(clients)
    for c, ok in zip(clients, oks, strict=True):
        if not ok:
            continue
        # the sync step 2 must carry the whole seeded doc
        full = c.step2_bytes >= wl.seed_bytes
        if c.plan.verify:
            full = full and c.text_length("notes") >= wl.seed_bytes
            if full:
                result.verified_ok += 1
            else:
                result.verified_failed += 1
        if full:
            result.received += 1
            latencies.append((c.synced_at_ns - t0) // 1000)
        else:
            result.errors.append(f"client {c.plan.cid}: step 2 only {c.step2_bytes} bytes")


def run_idle_check(clients: list[BenchClient], result: WorkerResult) -> None:
    """Idle capacity: every client that connected must still be connected now."""
    result.expected = len(clients)
    result.received = sum(1 for c in clients if c.is_open)
