"""The issue 14 scenarios (`noisy-neighbour`, `soak`, `durability`): Debrief only, each with
its own harness and figures, run by ``bench/run --scenarios <name>`` like the others.

They are not part of ``all`` (the side-by-side suite); ``--repeat N`` runs each N times and
prints every run and the median. Results go to bench/results/isolation-<stamp>.json.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import durability, noisy, servers, soak

NAMES = ("noisy-neighbour", "soak", "durability")
RESULTS = servers.BENCH / "results"


def _median(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "-"
    spread = f" ({min(known):.1f}-{max(known):.1f})" if len(known) > 1 else ""
    return f"{statistics.median(known):.1f}{spread}"


def _noisy(duration: float | None) -> tuple[Callable[[Path], Any], Callable[[Any], str]]:
    cfg = noisy.NoisyConfig() if duration is None else noisy.NoisyConfig(flood_s=duration)
    print(f"== noisy-neighbour on debrief: {cfg.title}", flush=True)
    return (lambda logs: noisy.run(cfg, logs)), noisy.summary


def _soak(cycles: int | None) -> tuple[Callable[[Path], Any], Callable[[Any], str]]:
    cfg = soak.SoakConfig() if cycles is None else soak.SoakConfig(cycles=cycles)
    print(f"== soak on debrief: {cfg.title}", flush=True)
    return (lambda logs: soak.run(cfg, logs)), soak.summary


def _durability(rounds: int | None) -> tuple[Callable[[Path], Any], Callable[[Any], str]]:
    cfg = durability.DurabilityConfig() if rounds is None else durability.DurabilityConfig(rounds)
    print(f"== durability on debrief: {cfg.title}", flush=True)
    return (lambda logs: durability.run(cfg, logs)), durability.summary


def medians(name: str, runs: list[Any]) -> str:
    """One line of medians (and min-max) over the runs of one scenario."""
    if name == "noisy-neighbour":
        return (
            f"median of {len(runs)}: B p99 during {_median([r.during.p99_ms for r in runs])} ms, "
            f"after {_median([r.after.p99_ms for r in runs])} ms; B p50 during "
            f"{_median([r.during.p50_ms for r in runs])} ms; peak RSS "
            f"{_median([r.peak_rss_mib for r in runs])} MiB; A taken in "
            f"{_median([r.taken_in_mib_s for r in runs])} MiB/s, stored "
            f"{_median([r.accepted_mib_s for r in runs])} MiB/s"
        )
    if name == "soak":
        return soak.medians(runs)
    return (
        f"{len(runs)} runs: lost {sum(r.lost for r in runs)} of {sum(r.seen for r in runs)} "
        f"seen, duplicated {sum(r.duplicated for r in runs)}"
    )


def run_selected(
    names: list[str], repeat: int, duration: float | None, cycles: int | None, out: Path | None
) -> int:
    """Run each named scenario ``repeat`` times; 1 if any run lost data or failed."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_dir = RESULTS / "logs" / stamp
    record: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "exe": str(servers.debrief_executable()),
        "runs": {},
    }
    failed = False
    for name in names:
        if name == "noisy-neighbour":
            go, show = _noisy(duration)
        elif name == "soak":
            go, show = _soak(cycles)
        else:
            go, show = _durability(None)
        runs = []
        for i in range(repeat):
            r = go(log_dir)
            print(f"   run {i + 1}/{repeat}: {show(r)}", flush=True)
            for e in r.errors[:3]:
                print(f"   ! {e}", flush=True)
            failed = (
                failed
                or bool(getattr(r, "lost", 0))
                or any(e.startswith("run failed") for e in r.errors)
            )
            runs.append(r)
        if repeat > 1:
            print(f"   {medians(name, runs)}", flush=True)
        record["runs"][name] = [r.to_json() for r in runs]
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = out or RESULTS / f"isolation-{stamp}.json"
    path.write_text(json.dumps(record, indent=1, default=str) + "\n")
    print(f"results: {path}")
    return 1 if failed else 0
