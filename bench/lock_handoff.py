"""How fast a review's Redis lock passes between processes (storage/redis.py `lock`).

Run by hand against any version of the server code (the one first on PYTHONPATH):

    .venv/bin/python bench/lock_handoff.py                          # this checkout
    PYTHONPATH=/tmp/b-A/server .venv/bin/python bench/lock_handoff.py   # another

Starts a throwaway ``redis-server`` on a free loopback port (never the machine's Redis),
then ``--processes`` processes, each with ``--tasks`` tasks that take one of
``--locks`` lock names in turn for ``--seconds``: take it, hold it ``--hold-ms``
(what a note's write costs under the lock), let go. In one process the tasks queue
on a local lock; across processes they meet in Redis, where a waiter used to poll
with a backoff (2, 4, 8 … ms) and is now woken by the unlock. Prints the locks taken
per second and the wait for a lock (ask → hold), p50 / p99 / max, and the Redis
commands per lock taken (INFO commandstats, counting the calls a script makes
too: what each lock costs the shared Redis).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import secrets
import socket
import statistics
import subprocess
import time
from typing import Any

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_redis() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return proc, url
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def worker(url: str, prefix: str, args: argparse.Namespace, start_at: float, out: Any) -> None:
    from debrief.storage.redis import RedisStorage

    async def run() -> list[float]:
        store = RedisStorage(url, prefix=prefix)
        await store.open()
        waits: list[float] = []
        stop_at = start_at + args.seconds

        async def task(n: int) -> None:
            name = f"review:{n % args.locks}"
            while time.time() < stop_at:
                asked = time.perf_counter()
                async with store.lock(name):
                    waits.append(time.perf_counter() - asked)
                    await asyncio.sleep(args.hold_ms / 1000)

        await asyncio.sleep(max(0.0, start_at - time.time()))
        await asyncio.gather(*(task(n) for n in range(args.tasks)))
        await store.close()
        return waits

    out.send(asyncio.run(run()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--tasks", type=int, default=4, help="per process")
    parser.add_argument("--locks", type=int, default=1)
    parser.add_argument("--hold-ms", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    prefix = f"bench-lock-{secrets.token_hex(4)}:"
    server, url = start_redis()
    try:
        report(url, prefix, args)
    finally:
        server.terminate()
        server.wait()


def report(url: str, prefix: str, args: argparse.Namespace) -> None:
    stats = redis.Redis.from_url(url)
    stats.config_resetstat()
    start_at = time.time() + 1.0
    pipes, procs = [], []
    for _ in range(args.processes):
        mine, theirs = multiprocessing.Pipe()
        proc = multiprocessing.Process(target=worker, args=(url, prefix, args, start_at, theirs))
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    waits: list[float] = []
    per_process = []
    for pipe in pipes:
        got = pipe.recv()
        per_process.append(len(got))
        waits += got
    for proc in procs:
        proc.join()
    commands = sum(
        value["calls"]
        for name, value in stats.info("commandstats").items()
        if name not in ("cmdstat_config", "cmdstat_info")
    )
    ordered = sorted(waits)
    print(
        json.dumps(
            {
                "locks_per_s": round(len(waits) / args.seconds, 1),
                "per_process": per_process,
                "wait_ms": {
                    "p50": round(statistics.median(ordered) * 1000, 2),
                    "p99": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
                    "max": round(ordered[-1] * 1000, 2),
                },
                "redis_commands_per_lock": round(commands / len(waits), 2),
                "settings": vars(args),
            }
        )
    )


if __name__ == "__main__":
    main()
