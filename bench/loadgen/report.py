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
OURS = "debrief"


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
            cells = [
                name,
                r.server,
                _num(r.p50_ms),
                _num(r.p99_ms),
                _num(r.max_ms),
                _delivered(r),
                _num(r.server_cpu_s, 2),
                _num(r.server_peak_rss_mib, 0),
                _num(r.rss_per_client_kib, 1),
                *ratios,
            ]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def notes(results: list[ScenarioResult]) -> str:
    """Per-run remarks worth reading next to the table: errors, saturation, verification."""
    out: list[str] = []
    for r in results:
        bits: list[str] = []
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
    date = date or time.strftime("%Y-%m-%d %H:%M %Z")
    parts = [
        f"Measured {date} on {where or machine()}.",
        "",
        f"Reproduce: `{command}`",
        "",
        scenario_titles(results),
        "",
        markdown(results),
    ]
    extra = notes(results)
    if extra:
        parts += ["", "Remarks from this run:", "", extra]
    return "\n".join(parts)


def render_json(path: Path) -> str:
    """The results block of a saved run (date, machine and command as recorded)."""
    doc = json.loads(path.read_text())
    results = [ScenarioResult.from_json(r) for r in doc["results"]]
    return block(
        results,
        str(doc.get("command", "")).strip(),
        str(doc.get("date", "")),
        str(doc.get("machine", "")),
    )


def write_json(results: list[ScenarioResult], path: Path, command: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "command": command,
        "results": [r.to_json() for r in results],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")


def update_readme(readme: Path, text: str) -> bool:
    """Replace the text between the results markers of ``readme``; False if markers are absent."""
    if not readme.exists():
        return False
    content = readme.read_text()
    start, end = content.find(README_START), content.find(README_END)
    if start < 0 or end < start:
        return False
    new = content[: start + len(README_START)] + "\n" + text + "\n" + content[end:]
    readme.write_text(new)
    return True
