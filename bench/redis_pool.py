"""CPU per command of redis-py's two asyncio connection pools (issue 15, sixth pass).

The Redis backend used `BlockingConnectionPool`, which takes an asyncio.Condition and arms
a timer for every command; it now uses a plain `ConnectionPool` and bounds its own calls
(storage/redis.py `call`). This measures the difference alone: GETs of one key against a
real Redis, one at a time and 32 at once, on uvloop with hiredis as the server runs.

    .venv/bin/python bench/redis_pool.py [--url redis://127.0.0.1:6379/0] [--commands 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import redis.asyncio as aioredis
import uvloop
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

CONCURRENT = 32


async def cpu_per_command(client: aioredis.Redis, commands: int, width: int) -> float:
    """Microseconds of this process's CPU per GET, ``width`` at a time."""

    async def worker() -> None:
        for _ in range(commands // width):
            await client.get("redis-pool-bench")

    started = time.process_time()
    await asyncio.gather(*(worker() for _ in range(width)))
    return (time.process_time() - started) / commands * 1e6


async def main(url: str, commands: int, rounds: int) -> None:
    pools: list[tuple[str, Any, dict[str, Any]]] = [
        ("BlockingConnectionPool", aioredis.BlockingConnectionPool, {"timeout": 5.0}),
        ("ConnectionPool", aioredis.ConnectionPool, {}),
    ]
    clients = {}
    for name, pool_class, extra in pools:
        pool = pool_class.from_url(url, max_connections=64, retry=Retry(NoBackoff(), 0), **extra)
        clients[name] = aioredis.Redis(connection_pool=pool)
        await clients[name].ping()
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in clients}
    for _ in range(rounds):  # the pools by turns: the machine's drift hits both alike
        for name, client in clients.items():
            serial = await cpu_per_command(client, commands, 1)
            wide = await cpu_per_command(client, commands, CONCURRENT)
            figures[name].append((serial, wide))
    for name, client in clients.items():
        await client.aclose()
        serial = statistics.median(s for s, _ in figures[name])
        wide = statistics.median(w for _, w in figures[name])
        print(f"{name:24} median of {rounds}: one at a time {serial:6.1f} µs/GET", end="   ")
        print(f"{CONCURRENT} at once {wide:6.1f} µs/GET")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--commands", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    uvloop.run(main(args.url, args.commands, args.rounds))
