"""Command line: ``python -m loadgen`` (from bench/, or with bench/ on PYTHONPATH).

Runs every selected scenario against every selected server, one fresh server per run, and
prints the comparison table (and the scale-out table when debrief-redis ran); results go to
bench/results/ and, with --readme, into bench/README.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from . import isolation, meeting, report, runner, servers
from .plan import ServerKind
from .scenarios import Scenario, default_scenarios, smoke_scenario, with_overrides

RESULTS = servers.BENCH / "results"


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m loadgen", description=__doc__)
    ap.add_argument(
        "--servers",
        default=",".join(servers.ALL_SERVERS),
        help="comma-separated: " + ",".join(servers.ALL_SERVERS) + " (debrief-redis: 2 "
        "debrief processes + a throwaway redis-server, only on big-* and many unless "
        "--scaleout-all)",
    )
    ap.add_argument(
        "--scaleout-all",
        action="store_true",
        help="run debrief-redis on every selected scenario, not only big-* and many",
    )
    ap.add_argument(
        "--scenarios",
        default="all",
        help="comma-separated names (big-200,big-500,big-1000,many,storm,idle,"
        "awareness,smoke) or 'all'; issue 14's noisy-neighbour, soak and durability and "
        "issue 15's meeting run on debrief (meeting also on debrief-redis) and are not in 'all'",
    )
    ap.add_argument(
        "--cycles", type=int, default=None, help="soak: connect-write-disconnect cycles"
    )
    ap.add_argument("--scale", type=float, default=1.0, help="multiply client counts")
    ap.add_argument("--duration", type=float, default=None, help="timed phase seconds")
    ap.add_argument("--procs", type=int, default=None, help="generator processes per run")
    ap.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run everything N times, servers interleaved, and report each pair's median-p99 run",
    )
    ap.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    ap.add_argument(
        "--pin",
        action="store_true",
        help="servers on the first CPU, the generator on the others (no sharing of cores)",
    )
    ap.add_argument(
        "--profile",
        action="store_true",
        help="sample Python servers with py-spy (bench/results/profiles/)",
    )
    ap.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="do not run: print (and with --readme write) the table of a results file",
    )
    ap.add_argument("--out", type=Path, default=None, help="JSON results file")
    return ap.parse_args(argv)


def _select(names: str, scale: float) -> list[Scenario]:
    suite = default_scenarios(scale)
    if names == "all":
        return suite
    every = {s.name: s for s in suite}
    every["smoke"] = smoke_scenario()
    chosen: list[Scenario] = []
    for name in (n.strip() for n in names.split(",")):
        if name == "big":
            chosen += [s for s in suite if s.name.startswith("big-")]
        elif name in every:
            chosen.append(every[name])
        else:
            raise SystemExit(f"unknown scenario {name!r}; known: big, {', '.join(every)}")
    return chosen


def _render(path: Path, readme: bool) -> int:
    results, meta = report.load_json(path)
    args = (results, meta["command"], meta["date"], meta["machine"])
    text, scaleout = report.block(*args), report.scaleout_block(*args)
    print("\n\n".join(t for t in (text, scaleout) if t))
    if readme:
        for problem in report.write_readme(servers.BENCH / "README.md", results, text, scaleout):
            print(problem, file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    if args.from_json is not None:
        return _render(args.from_json, args.readme)
    if args.pin:
        servers.pin_cpus()
    names = [n.strip() for n in args.scenarios.split(",")]
    if meeting.NAME in names:
        rest = ",".join(n for n in names if n != meeting.NAME)
        status = (
            main([*(argv if argv is not None else sys.argv[1:]), "--scenarios", rest])
            if rest
            else 0
        )
        kinds = [k for k in args.servers.split(",") if k in ("debrief", "debrief-redis")]
        runs = meeting.run_selected(kinds, args.repeat, args.scale, args.duration, args.out,
                                    args.profile)  # fmt: skip
        return max(status, runs)
    special = [n for n in names if n in isolation.NAMES]
    if special:
        rest = ",".join(n for n in names if n not in isolation.NAMES)
        status = 0
        if rest:
            status = main([*(argv if argv is not None else sys.argv[1:]), "--scenarios", rest])
        return max(
            status,
            isolation.run_selected(special, args.repeat, args.duration, args.cycles, args.out),
        )
    kinds: list[ServerKind] = []
    for k in args.servers.split(","):
        if k not in servers.ALL_SERVERS:
            raise SystemExit(f"unknown server {k!r}; known: {', '.join(servers.ALL_SERVERS)}")
        why = servers.available(k)
        if why:
            print(f"skipping {k}: {why}", file=sys.stderr)
        else:
            kinds.append(k)
    scenarios = [
        with_overrides(s, args.duration, args.procs) for s in _select(args.scenarios, args.scale)
    ]
    command = "bench/run " + shlex.join(argv if argv is not None else sys.argv[1:])
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_dir = RESULTS / "logs" / stamp
    runs: dict[tuple[str, str], list[runner.ScenarioResult]] = {}
    for round_ in range(1, args.repeat + 1):
        for sc in scenarios:
            for kind in kinds:
                runs.setdefault((sc.name, kind), []).append(
                    _run_one(kind, sc, args, log_dir, stamp, round_)
                )
    results = [runner.median_run(rs) for rs in runs.values()]
    text = report.block(results, command.strip())
    scaleout = report.scaleout_block(results, command.strip())
    both = "\n\n".join(t for t in (text, scaleout) if t)
    print()
    print(both)
    out = args.out or RESULTS / f"results-{stamp}.json"
    report.write_json(results, out, command)
    (RESULTS / "latest.md").write_text(both + "\n")
    if args.readme:
        for problem in report.write_readme(servers.BENCH / "README.md", results, text, scaleout):
            print(problem, file=sys.stderr)
    failed = [r for r in results if r.expected and r.received != r.expected]
    return 1 if failed else 0


def _run_one(
    kind: ServerKind,
    sc: Scenario,
    args: argparse.Namespace,
    log_dir: Path,
    stamp: str,
    round_: int,
) -> runner.ScenarioResult:
    if kind == servers.SCALEOUT and not (sc.scaleout or args.scaleout_all):
        why = "scale-out runs big-* and many only (--scaleout-all for every scenario)"
        return runner.skipped(kind, sc, why)
    of = f" (run {round_}/{args.repeat})" if args.repeat > 1 else ""
    print(f"== {sc.name} on {kind}{of}: {sc.title}", flush=True)
    profile_dir = RESULTS / "profiles" / stamp if args.profile else None
    r = runner.run(kind, sc, log_dir, profile_dir)
    print(
        f"   p50 {report._num(r.p50_ms)} ms, p99 {report._num(r.p99_ms)} ms, "
        f"max {report._num(r.max_ms)} ms, delivered {r.received}/{r.expected}, "
        f"server CPU {r.server_cpu_s:.2f} s, peak RSS {r.server_peak_rss_mib:.0f} MiB"
        + (f", {r.rss_per_client_kib:.1f} KiB/client" if r.rss_per_client_kib else "")
        + (f", Redis CPU {r.redis_cpu_s:.2f} s" if r.redis_cpu_s is not None else "")
        + f", generator CPU {r.generator_cpu_s:.1f} s, other CPU {r.other_cpu_s:.1f} s"
        + f", {r.wall_s:.0f} s wall",
        flush=True,
    )
    for e in r.errors[:3]:
        print(f"   ! {e}", flush=True)
    return r


if __name__ == "__main__":
    raise SystemExit(main())
