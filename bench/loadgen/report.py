"""Turn scenario results into the comparison table (Markdown) and a JSON record."""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

from .runner import ScenarioResult

README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"
SCALEOUT_START = "<!-- scaleout:start -->"
SCALEOUT_END = "<!-- scaleout:end -->"
OURS = "debrief"
SCALEOUT = "debrief-redis"
DASH = "\u2014"  # a pair that was not run


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def _num(v: float | None, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.{digits}f}"


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs <= 0 or math.isnan(ours) or math.isnan(theirs):
        return "-"
    return f"{ours / theirs:.2f}"


def _delivered(r: ScenarioResult) -> str:
    if not r.expected:
        return "-"
    if r.received == r.expected:
        return "1.0"
    return f"{r.delivered:.4f}"


def single(results: list[ScenarioResult]) -> list[ScenarioResult]:
    """The runs of one-process servers (the comparison with the other Yjs servers)."""
    return [r for r in results if r.server != SCALEOUT and not r.skipped]


def has_competitors(results: list[ScenarioResult]) -> bool:
    return any(r.server not in (OURS, SCALEOUT) for r in results)


def markdown(results: list[ScenarioResult]) -> str:
    """One table: a row per (scenario, server); ratios are Debrief ÷ that server."""
    head = (
        "| scenario | server | p50 ms | p99 ms | max ms | delivered | server CPU s "
        "| peak RSS MiB | RSS/client KiB | p99 ratio | CPU ratio | RSS ratio |"
    )
    lines = [head, "|" + "---|" * 12]
    by_scenario: dict[str, list[ScenarioResult]] = {}
    for r in results:
        by_scenario.setdefault(r.scenario, []).append(r)
    for name, rows in by_scenario.items():
        ours = next((r for r in rows if r.server == OURS), None)
        for r in rows:
            if ours is not None and r is not ours:
                ratios = [
                    _ratio(ours.p99_ms, r.p99_ms),
                    _ratio(ours.server_cpu_s, r.server_cpu_s),
                    _ratio(ours.server_peak_rss_mib, r.server_peak_rss_mib),
                ]
            else:
                ratios = ["", "", ""]
            cells = [name, r.server, *_measured(r), _num(r.rss_per_client_kib, 1), *ratios]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _measured(r: ScenarioResult) -> list[str]:
    """The cells every table shares: latency, delivery, server CPU and peak RSS."""
    return [
        _num(r.p50_ms),
        _num(r.p99_ms),
        _num(r.max_ms),
        _delivered(r),
        _num(r.server_cpu_s, 2),
        _num(r.server_peak_rss_mib, 0),
    ]


def scaleout_markdown(results: list[ScenarioResult]) -> str:
    """Debrief on 2 processes + Redis beside Debrief on one process (SQLite), per scenario.

    CPU and RSS of the cluster are summed over its server processes; Redis has its own
    columns. Ratios are scale-out ÷ one process (below 1: the cluster is faster or leaner).
    """
    head = (
        "| scenario | setup | p50 ms | p99 ms | max ms | delivered | server CPU s "
        "| peak RSS MiB | Redis CPU s | Redis RSS MiB | p99 ratio | CPU ratio |"
    )
    lines = [head, "|" + "---|" * 12]
    by_scenario: dict[str, list[ScenarioResult]] = {}
    for r in results:
        if r.server in (OURS, SCALEOUT):
            by_scenario.setdefault(r.scenario, []).append(r)
    for name, rows in by_scenario.items():
        if not any(r.server == SCALEOUT for r in rows):
            continue
        one = next((r for r in rows if r.server == OURS and not r.skipped), None)
        for r in sorted(rows, key=lambda r: r.server != OURS):
            setup = "1 process (SQLite)" if r.server == OURS else f"{r.processes} processes + Redis"
            if r.skipped:
                lines.append(f"| {name} | 2 processes + Redis | " + " | ".join([DASH] * 10) + " |")
                continue
            ratios = ["", ""]
            if r.server == SCALEOUT and one is not None:
                ratios = [_ratio(r.p99_ms, one.p99_ms), _ratio(r.server_cpu_s, one.server_cpu_s)]
            redis = [_num(r.redis_cpu_s, 2), _num(r.redis_peak_rss_mib, 0)]
            cells = [name, setup, *_measured(r), *redis, *ratios]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(results: list[ScenarioResult]) -> str:
    """Per-run remarks worth reading next to the table: errors, saturation, verification."""
    out: list[str] = []
    for r in results:
        if r.skipped:
            continue
        bits: list[str] = []
        if len(r.rounds) > 1:
            what = "p99 ms" if r.p99_ms is not None else "KiB per client"
            each = ", ".join(f"{v:.1f}" for v in r.rounds)
            bits.append(f"median of {len(r.rounds)} runs ({what} of each run: {each})")
        if len(r.process_cpu_s) > 1:
            split = " + ".join(f"{c:.2f}" for c in r.process_cpu_s)
            bits.append(f"server CPU per process {split} s")
        if r.verified_failed:
            bits.append(f"{r.verified_failed} verifying clients found content missing")
        if "idle" not in (r.mode, r.scenario) and r.other_cpu_s > 0.1 * max(r.phase_s, 1e-9):
            bits.append(
                f"other processes used {r.other_cpu_s:.1f} CPU s during the "
                f"{r.phase_s:.0f} s timed phase (noisy machine)"
            )
        if r.superseded:
            bits.append(
                f"{r.superseded} awareness states were superseded by a newer state of "
                "the same client before they were sent (coalescing; counted delivered)"
            )
        if r.send_lag_max_ms > 100:
            bits.append(f"writers fell behind schedule by up to {r.send_lag_max_ms:.0f} ms")
        if r.connected < r.clients:
            bits.append(f"only {r.connected}/{r.clients} clients connected")
        if r.errors:
            bits.append("errors: " + "; ".join(r.errors[:3]))
        if bits:
            out.append(f"- {r.scenario} / {r.server}: " + "; ".join(bits))
    return "\n".join(out)


def scenario_titles(results: list[ScenarioResult]) -> str:
    seen: dict[str, str] = {}
    for r in results:
        seen.setdefault(r.scenario, r.title)
    return "\n".join(f"- **{k}**: {v}" for k, v in seen.items())


def block(results: list[ScenarioResult], command: str, date: str = "", where: str = "") -> str:
    """The one-process comparison table with its header and remarks ("" if none ran)."""
    rows = single(results)
    if not rows:
        return ""
    date = date or time.strftime("%Y-%m-%d %H:%M %Z")
    parts = [
        f"Measured {date} on {where or machine()}.",
        "",
        f"Reproduce: `{command}`",
        "",
        scenario_titles(rows),
        "",
        markdown(rows),
    ]
    extra = notes(rows)
    if extra:
        parts += ["", "Remarks from this run:", "", extra]
    return "\n".join(parts)


def scaleout_block(
    results: list[ScenarioResult], command: str, date: str = "", where: str = ""
) -> str:
    """The scale-out table (debrief-redis beside one-process debrief); "" if it did not run."""
    if not any(r.server == SCALEOUT for r in results):
        return ""
    rows = [r for r in results if r.server in (OURS, SCALEOUT)]
    date = date or time.strftime("%Y-%m-%d %H:%M %Z")
    parts = [
        f"Measured {date} on {where or machine()}.",
        "",
        f"Reproduce: `{command}`",
        "",
        scenario_titles([r for r in rows if r.server == SCALEOUT]),
        "",
        scaleout_markdown(rows),
    ]
    extra = notes([r for r in rows if not r.skipped])
    if extra:
        parts += ["", "Remarks from this run (scale-out and its one-process baseline):", "", extra]
    return "\n".join(parts)


def load_json(path: Path) -> tuple[list[ScenarioResult], dict[str, str]]:
    """The results of a saved run and its date, machine and command."""
    doc = json.loads(path.read_text())
    results = [ScenarioResult.from_json(r) for r in doc["results"]]
    meta = {k: str(doc.get(k, "")).strip() for k in ("date", "machine", "command")}
    return results, meta


def render_json(path: Path) -> str:
    """The results blocks of a saved run (date, machine and command as recorded)."""
    results, meta = load_json(path)
    args = (results, meta["command"], meta["date"], meta["machine"])
    return "\n\n".join(t for t in (block(*args), scaleout_block(*args)) if t)


def write_readme(
    readme: Path, results: list[ScenarioResult], text: str, scaleout: str
) -> list[str]:
    """Write the sections this run has into ``readme``; returns complaints (missing markers).

    The one-process table is written only when the run compared Debrief with another server,
    the scale-out table only when debrief-redis ran: a run of just those two leaves the
    comparison table alone.
    """
    problems: list[str] = []
    if text and has_competitors(results) and not update_readme(readme, text):
        problems.append(f"{readme.name} has no results markers; table not written")
    if scaleout and not update_readme(readme, scaleout, SCALEOUT_START, SCALEOUT_END):
        problems.append(f"{readme.name} has no scaleout markers; scale-out table not written")
    return problems


def write_json(results: list[ScenarioResult], path: Path, command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "command": command,
        "results": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")


def update_readme(
    readme: Path, text: str, start_marker: str = README_START, end_marker: str = README_END
) -> bool:
    """Replace the text between two markers of ``readme``; False if the markers are absent."""
    if not readme.exists():
        return False
    content = readme.read_text()
    start, end = content.find(start_marker), content.find(end_marker)
    if start < 0 or end < start:
        return False
    new = content[: start + len(start_marker)] + "\n" + text + "\n" + content[end:]
    readme.write_text(new)
    return True
