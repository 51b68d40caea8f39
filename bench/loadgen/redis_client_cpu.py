"""Client CPU per Redis round trip: redis-py against storage/resp.py, by turns.

A note's two write-path round trips, as `RedisStorage` sends them, from ``--callers``
tasks at once in this process: the lock's script with two record reads (a pipeline),
then a record's script with the unlock (MULTI/EXEC). Prints this process's CPU per pair
and pairs per second for each client; Redis's own CPU is not counted (it does the same
work for both). Uses keys under ``bench-resp:`` on the given Redis and deletes them.

    .venv/bin/python -m bench.loadgen.redis_client_cpu [--url redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from collections.abc import Awaitable, Callable

import uvloop

from debrief.storage.redis import PUT_RECORD, RedisStorage
from debrief.storage.redis_unlocks import ACQUIRE, UNLOCK
from debrief.storage.resp import RespClient

PREFIX = "bench-resp:"


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def keys(i: int) -> tuple[str, str, str]:
    return f"{PREFIX}lock:{i}", f"{PREFIX}wait:{i}", f"{PREFIX}rec:{i}"


async def with_redis_py(store: RedisStorage, i: int, rounds: int) -> None:
    lock, wait, record = keys(i)
    for _ in range(rounds):
        async with store.client.pipeline(transaction=False) as pipe:
            pipe.eval(ACQUIRE, 2, lock, wait, "token", 10_000)
            pipe.hget(record, "data")
            pipe.hget(f"{record}:tally", "data")
            await pipe.execute()
        async with store.client.pipeline(transaction=True) as pipe:
            pipe.eval(PUT_RECORD, 2, record, f"{PREFIX}seq", b'{"a":1}', "r", str(i), PREFIX)
            pipe.eval(UNLOCK, 2, lock, wait, "token", f"{PREFIX}ch", "n")
            await pipe.execute()


async def with_resp(resp: RespClient, i: int, rounds: int) -> None:
    lock, wait, record = keys(i)
    for _ in range(rounds):
        await resp.execute(
            ("EVAL", ACQUIRE, 2, lock, wait, "token", 10_000),
            ("HGET", record, "data"),
            ("HGET", f"{record}:tally", "data"),
        )
        await resp.transaction(
            ("EVAL", PUT_RECORD, 2, record, f"{PREFIX}seq", b'{"a":1}', "r", str(i), PREFIX),
            ("EVAL", UNLOCK, 2, lock, wait, "token", f"{PREFIX}ch", "n"),
        )


async def main(url: str, callers: int, pairs: int, turns: int) -> None:
    store = RedisStorage(url, prefix=PREFIX)
    await store.open()
    resp = RespClient(url)
    each = max(1, pairs // callers)
    runs: dict[str, Callable[[int], Awaitable[None]]] = {
        "redis-py": lambda i: with_redis_py(store, i, each),
        "resp.py": lambda i: with_resp(resp, i, each),
    }
    try:
        for name in runs:  # warm-up: connections, script caches
            await asyncio.gather(*(runs[name](i) for i in range(callers)))
        for _ in range(turns):
            for name, run in runs.items():
                cpu0, t0 = cpu_s(), time.perf_counter()
                await asyncio.gather(*(run(i) for i in range(callers)))
                cpu, wall = cpu_s() - cpu0, time.perf_counter() - t0
                done = each * callers
                print(f"{name:9} {cpu / done * 1e6:6.1f} us of CPU per pair  {done / wall:7.0f}/s")
    finally:
        await store.drop_everything()
        await resp.close()
        await store.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--callers", type=int, default=32)
    ap.add_argument("--pairs", type=int, default=3200, help="per client and turn")
    ap.add_argument("--turns", type=int, default=3)
    args = ap.parse_args()
    uvloop.run(main(args.url, args.callers, args.pairs, args.turns))
