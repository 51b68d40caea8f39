"""CPU time and memory of a server process and its descendants, read from /proc."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
_PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu_s: float  # user + system seconds, summed over the process tree
    rss_kib: int  # current resident set (VmRSS), summed
    hwm_kib: int  # peak resident set (VmHWM), summed over the tree's processes
    pids: int


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    task_dir = _PROC / str(pid) / "task"
    try:
        for task in task_dir.iterdir():
            text = (task / "children").read_text()
            kids.extend(int(x) for x in text.split())
    except OSError:
        pass
    return kids


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant."""
    seen: list[int] = []
    todo = [pid]
    while todo and len(seen) < 1000:
        p = todo.pop()
        if p in seen:
            continue
        seen.append(p)
        todo.extend(_children(p))
    return seen


def _cpu(pid: int) -> float:
    stat = (_PROC / str(pid) / "stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # fields[11], [12] are utime, stime (fields 14, 15 of proc(5), counted from 1)
    return (int(fields[11]) + int(fields[12])) / _TICK


def _status_kib(pid: int, key: str) -> int:
    for line in (_PROC / str(pid) / "status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def status_kib(pid: int, key: str) -> int:
    """One ``kB`` line of /proc/<pid>/status (e.g. RssAnon, RssFile, RssShmem); 0 if gone."""
    try:
        return _status_kib(pid, key)
    except (OSError, ValueError, IndexError):
        return 0


def sample(pid: int) -> ProcSample:
    """CPU and memory of ``pid``'s tree right now (processes that vanish are skipped)."""
    return sample_all([pid])


def sample_all(pids: Iterable[int]) -> ProcSample:
    """CPU and memory of the trees of all ``pids`` together (e.g. a cluster's processes)."""
    cpu = 0.0
    rss = hwm = n = 0
    tree: list[int] = []
    for pid in pids:
        tree.extend(p for p in process_tree(pid) if p not in tree)
    for p in tree:
        try:
            cpu += _cpu(p)
            rss += _status_kib(p, "VmRSS")
            hwm += _status_kib(p, "VmHWM")
            n += 1
        except (OSError, ValueError, IndexError):
            continue
    return ProcSample(cpu, rss, hwm, n)


def system_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    fields = (_PROC / "stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK
