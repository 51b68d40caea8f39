"""Insights at scale (issue 16): GET /api/teams/{t}/insights for a team with 10,000 closed
reviews over two years.

The team of bench/team_scale.py (its seeding: TeamData, the real services and status
rules; 100,000 actions in a realistic status mix), spread over two years instead of one,
and then for every review what closing leaves for learning across reviews: a frozen recap
(themes with categories and votes, a timeline with first signal / response / escalation
markers) and its facts, written by the real code (teams/facts_store.record_closed). A real
`debrief serve` opens the store; keep-alive clients ask for insights over several periods,
at concurrency 1 and 4, each period also asked so that every answer is computed afresh
(the "fresh-" calls). Goal: p99 <= 200 ms, on SQLite and on Redis.

    .venv/bin/python bench/insights_scale.py                       # both backends, full size
    .venv/bin/python bench/insights_scale.py --backends sqlite --reviews 1000 --actions 10000
    .venv/bin/python bench/insights_scale.py --readme              # write the table into README
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import team_scale as ts  # noqa: E402
from debrief.meeting import recap as rc  # noqa: E402
from debrief.meeting.service import FROZEN_RECAP  # noqa: E402
from debrief.storage import Storage  # noqa: E402
from debrief.teams import facts_store  # noqa: E402
from debrief.teams.archive import Archive  # noqa: E402

README = BENCH / "README.md"
MARK_START, MARK_END = "<!-- insights-scale:start -->", "<!-- insights-scale:end -->"
GOAL_P99_MS = 200.0
CATEGORIES = (
    ("process-gap", 0.3), ("role-ambiguity", 0.15), ("timing-pressure", 0.15),
    ("information-gap", 0.2), ("tooling", 0.15), ("other", 0.05),
)  # fmt: skip
THEME_TITLES = (
    "Nobody owned the {svc} pager", "The {svc} runbook was out of date",
    "Alerts on {svc} fired too late", "The {svc} deploy tool hid errors",
    "Unclear who could roll back {svc}", "Release of {svc} under deadline pressure",
)  # fmt: skip


@dataclass
class Seeded:
    base: ts.Seeded
    facts: int = 0
    facts_s: float = 0.0


class InsightsData(ts.TeamData):
    """team_scale's team, remembering each review so its facts can follow."""

    def __init__(self, cfg: ts.ScaleConfig) -> None:
        super().__init__(cfg)
        self.reviews: list[dict[str, Any]] = []

    async def _put_review(  # type: ignore[override]  # a method here, static in the base
        self, storage: Storage, archive: Archive, review: dict[str, Any], kind: str, n: int
    ) -> None:
        self.reviews.append(review)
        await ts.TeamData._put_review(storage, archive, review, kind, n)


def frozen_recap(review: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """What closing would have frozen: 2-6 themes, a timeline with markers (most reviews)."""
    svc = review["title"].split(" ")[0].lower()
    themes = []
    for n in range(rng.randint(2, 6)):
        category = ts._pick(rng, CATEGORIES)
        title = rng.choice(THEME_TITLES).format(svc=svc)
        themes.append({"id": f"t{n}", "title": title, "category": category,
                       "section": "contributing-factors", "votes": rng.randint(0, 8)})  # fmt: skip
    signal = review["created_ms"] - rng.randint(1, 48) * 3_600_000
    events = []
    if rng.random() < 0.8:
        events.append({"id": "e1", "time": _iso(signal), "markers": ["first-signal"]})
        response = signal + rng.randint(2, 240) * 60_000
        events.append({"id": "e2", "time": _iso(response), "markers": ["first-response"]})
        if rng.random() < 0.4:
            escalation = response + rng.randint(5, 600) * 60_000
            events.append({"id": "e3", "time": _iso(escalation), "markers": ["escalation-delay"]})
    recap = rc.build_recap(review, events, themes, [], [], "", 0)
    return rc.finalize(recap, 1, _iso(review["closed_ms"]))


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _window(calls: Iterator[Awaitable[object]], size: int) -> None:
    window: list[Awaitable[object]] = []
    for call in calls:
        window.append(call)
        if len(window) >= size:
            await asyncio.gather(*window)
            window = []
    await asyncio.gather(*window)


async def seed(storage: Storage, cfg: ts.ScaleConfig) -> Seeded:
    """team_scale's seed with this data class, then every review's frozen recap and facts."""
    counts = ts.count_calls(storage)
    data = InsightsData(cfg)
    started = time.perf_counter()
    await data.create_team(storage)
    await _window(data.calls(storage), cfg.write_window)
    base = data.seeded()
    base.writes, base.seconds = sum(counts.values()), time.perf_counter() - started
    rng = random.Random(cfg.seed + 16)

    async def facts_of(review: dict[str, Any]) -> None:
        await storage.put_record(FROZEN_RECAP, review["id"], frozen_recap(review, rng),
                                 review["id"])  # fmt: skip
        await facts_store.record_closed(storage, review["id"])

    started = time.perf_counter()
    # record_closed reads and writes a dozen rows per review: fewer in flight at once
    await _window((facts_of(r) for r in data.reviews), max(8, cfg.write_window // 16))
    return Seeded(base, len(data.reviews), time.perf_counter() - started)


# The measured calls: (name, query of the i-th request). Default: the last 90 days (~1,250
# reviews here). A process keeps the figures of the periods asked lately until the team's
# data changes (http/insights_api.py): the "fresh-" calls ask for a period ending k days
# ago, k = i % FRESH_PERIODS, more periods than are kept, so every answer is computed.
FRESH_PERIODS = 200


def calls(today: datetime) -> list[tuple[str, Callable[[int], str]]]:
    day = today.date()

    def fresh(days: int) -> Callable[[int], str]:
        def query(i: int) -> str:
            until = day - timedelta(days=i % FRESH_PERIODS)
            return f"?since={(until - timedelta(days=days - 1)).isoformat()}&until={until}"

        return query

    return [
        ("insights-90d", lambda i: ""),
        ("insights-1y", lambda i: f"?since={(day - timedelta(days=364)).isoformat()}"),
        ("insights-2y", lambda i: f"?since={(day - timedelta(days=729)).isoformat()}"),
        ("fresh-90d", fresh(90)),
        ("fresh-1y", fresh(365)),
        ("fresh-2y", fresh(730)),
        ("csv-by-owner-90d", lambda i: "?figure=follow-through-by-owner&format=csv"),
    ]


@dataclass
class Run:
    backend: str
    seed_s: float = 0.0
    facts_s: float = 0.0
    store_mib: float | None = None
    reviews_90d: int = 0
    actions_90d: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def _seed_backend(backend: ts.Backend, cfg: ts.ScaleConfig) -> Seeded:
    storage = backend.storage()
    await storage.open()
    try:
        return await seed(storage, cfg)
    finally:
        await storage.close()


def _get(backend: ts.Backend, token: str, path: str) -> dict[str, Any]:
    import urllib.request

    req = urllib.request.Request(backend.base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        found: dict[str, Any] = json.loads(resp.read())
        return found


def measure(
    backend: ts.Backend, token: str, seeded: Seeded, cfg: ts.ScaleConfig, levels: list[int]
) -> list[dict[str, Any]]:
    results = []
    base = f"/api/teams/{seeded.base.team_id}/insights"
    for name, query in calls(datetime.now(UTC)):
        for concurrency in levels:
            run_cfg = replace(cfg, concurrency=concurrency)
            cpu0 = ts.server_cpu(backend)
            with asyncio.Runner(loop_factory=ts.LOOP_FACTORY) as runner:
                samples, sizes, errors, first = runner.run(
                    ts._hammer(backend, token, lambda i, q=query: base + q(i), run_cfg)
                )
            cpu = ts.server_cpu(backend) - cpu0
            row: dict[str, Any] = {"call": name, "concurrency": concurrency, "errors": errors,
                                   "first_error": first, "requests": len(samples)}  # fmt: skip
            if samples:
                ordered = sorted(samples)
                total = len(samples) + errors
                row |= {
                    "p50_ms": round(statistics.median(ordered) * 1000, 1),
                    "p99_ms": round(ts._pct(ordered, 0.99) * 1000, 1),
                    "max_ms": round(ordered[-1] * 1000, 1),
                    "rps": round(len(samples) / cfg.duration_s, 1),
                    "server_cpu_ms": round(cpu / max(1, total) * 1000, 1),
                    "kib": round(statistics.median(sizes) / 1024, 1),
                }
            print(f"   {backend.name:6} {name:18} c={concurrency} {_tail(row)}", flush=True)
            results.append(row)
    return results


def _tail(row: dict[str, Any]) -> str:
    if "p99_ms" not in row:
        return f"no answers ({row['errors']} errors: {row['first_error']})"
    over = "" if row["p99_ms"] <= GOAL_P99_MS else "  OVER GOAL"
    err = f", {row['errors']} errors: {row['first_error']}" if row["errors"] else ""
    return (f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, max {row['max_ms']} ms, "
            f"{row['rps']} req/s, server CPU {row['server_cpu_ms']} ms/req, "
            f"{row['kib']} KiB{err}{over}")  # fmt: skip


def run_backend(name: str, cfg: ts.ScaleConfig, levels: list[int], log_dir: Path) -> Run:
    out = Run(name)
    backend = ts.prepare(name, log_dir)
    try:
        print(f"== {name}: seeding {cfg.reviews:,} reviews over {cfg.span_days} days", flush=True)
        seeded = asyncio.run(_seed_backend(backend, cfg))
        out.seed_s, out.facts_s = round(seeded.base.seconds, 1), round(seeded.facts_s, 1)
        out.store_mib = ts._store_mib(backend)
        print(f"   seeded in {out.seed_s} s, facts of {seeded.facts:,} reviews in "
              f"{out.facts_s} s; store {out.store_mib} MiB", flush=True)  # fmt: skip
        ts.start_server(backend)
        token = ts.join_team(backend, seeded.base)
        found = _get(backend, token, f"/api/teams/{seeded.base.team_id}/insights")
        out.reviews_90d = int(found["reviews"])
        out.actions_90d = int(found["follow_through"]["totals"]["created"])
        print(f"   last 90 days: {out.reviews_90d:,} reviews, {out.actions_90d:,} actions",
              flush=True)  # fmt: skip
        out.results = measure(backend, token, seeded, cfg, levels)
    except Exception as exc:
        out.errors.append(f"run failed: {type(exc).__name__}: {exc}"[:400])
        print(f"   ! {out.errors[-1]}", flush=True)
    finally:
        backend.stop()
    return out


def table(runs: list[Run]) -> str:
    rows = [
        "| call | backend | clients | p50 ms | p99 ms | max ms | req/s | server CPU ms/req "
        "| answer KiB | p99 <= 200 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in sorted((r | {"backend": run.backend} for run in runs for r in run.results),
                    key=lambda r: (r["call"], r["backend"], r["concurrency"])):  # fmt: skip
        if "p99_ms" not in r:
            rows.append(f"| {r['call']} | {r['backend']} | {r['concurrency']} | - | - | - | - "
                        f"| - | - | **errors** |")  # fmt: skip
            continue
        ok = "yes" if r["p99_ms"] <= GOAL_P99_MS else "**no**"
        rows.append(
            f"| {r['call']} | {r['backend']} | {r['concurrency']} | {r['p50_ms']} | "
            f"{r['p99_ms']} | {r['max_ms']} | {r['rps']:.0f} | {r['server_cpu_ms']} | "
            f"{r['kib']} | {ok}{' (errors)' if r['errors'] else ''} |"
        )
    return "\n".join(rows)


def block(runs: list[Run], cfg: ts.ScaleConfig, command: str) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Measured {when} on {ts._machine()}.",
        "",
        f"Reproduce: `{command}`",
        "",
        f"Scenario: one team, {cfg.reviews:,} closed reviews over {cfg.span_days} days, "
        f"{cfg.actions:,} actions, {cfg.people} people; {cfg.duration_s:g} s per call and "
        "client count.",
        "",
        table(runs),
        "",
    ]
    for run in runs:
        lines.append(
            f"- {run.backend}: seeded in {run.seed_s:.0f} s, facts in {run.facts_s:.0f} s; "
            f"store {run.store_mib} MiB; the last 90 days hold {run.reviews_90d:,} reviews "
            f"and {run.actions_90d:,} actions"
        )
        lines += [f"  - {e}" for e in run.errors]
    return "\n".join(lines)


def write_readme(text: str, path: Path = README) -> bool:
    readme = path.read_text()
    if MARK_START not in readme or MARK_END not in readme:
        print(f"{path} has no {MARK_START} ... {MARK_END} markers", file=sys.stderr)
        return False
    head, _, rest = readme.partition(MARK_START)
    _, _, tail = rest.partition(MARK_END)
    path.write_text(f"{head}{MARK_START}\n{text}\n{MARK_END}{tail}")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/insights_scale.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--backends", default="sqlite,redis")
    ap.add_argument("--reviews", type=int, default=10_000)
    ap.add_argument("--actions", type=int, default=100_000)
    ap.add_argument("--days", type=int, default=730, help="the reviews spread over these days")
    ap.add_argument("--duration", type=float, default=8.0, help="timed s per call and level")
    ap.add_argument("--concurrency", default="1,4", help="client counts to measure")
    ap.add_argument("--readme", action="store_true", help="write the table into bench/README.md")
    args = ap.parse_args(argv)
    cfg = ts.ScaleConfig(reviews=args.reviews, actions=args.actions, duration_s=args.duration,
                         span_days=args.days)  # fmt: skip
    levels = [int(c) for c in args.concurrency.split(",") if c.strip()]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    log_dir = ts.RESULTS / "logs" / f"insights-scale-{stamp}"
    names = [n.strip() for n in args.backends.split(",") if n.strip()]
    runs = [run_backend(n, cfg, levels, log_dir) for n in names]
    command = ".venv/bin/python bench/insights_scale.py " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    text = block(runs, cfg, command.strip())
    print()
    print(text)
    ts.RESULTS.mkdir(parents=True, exist_ok=True)
    out = ts.RESULTS / f"insights-scale-{stamp}.json"
    out.write_text(json.dumps({"config": asdict(cfg), "runs": [asdict(r) for r in runs]}, indent=1))
    print(f"results: {out}")
    if args.readme:
        write_readme(text)
    return 1 if any(r.errors for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
