"""A rate-limit hit's cost as one address keeps up a steady rate.

`RateLimits.command_from` (the per-address command limit, lifted to 1,000,000 a second
as the bench does) is hit ``--rate`` times a second for ``--seconds`` seconds, paced by
the wall clock; each second prints the mean time of a hit and how many entries the
address's moving window holds. `--server` runs another build's `debrief` package (its
`server/` folder), to compare before and after.

    .venv/bin/python -m bench.loadgen.rate_limit_cpu --rate 5000 --seconds 8
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

ADDRESS = "10.0.0.1"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=int, default=5000, help="hits a second")
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--server", default="", help="a server/ folder to import debrief from")
    args = ap.parse_args()
    if args.server:
        sys.path.insert(0, args.server)
    ratelimit = importlib.import_module("debrief.http.ratelimit")
    settings = importlib.import_module("debrief.settings").Settings()
    settings.rate_ip_commands = "1000000/second"
    limits = ratelimit.RateLimits(settings)
    key = limits.ip_commands.key_for(ADDRESS)
    start = time.perf_counter()
    for second in range(args.seconds):
        spent = 0.0
        for i in range(args.rate):
            began = time.perf_counter()
            limits.command_from(ADDRESS)
            spent += time.perf_counter() - began
            due = start + second + (i + 1) / args.rate
            while time.perf_counter() < due:  # paced: the window sees a steady rate
                pass
        held = len(limits.storage.events[key])
        print(f"second {second + 1}: {spent / args.rate * 1e6:.1f} µs per hit, {held} entries")


if __name__ == "__main__":
    main()
