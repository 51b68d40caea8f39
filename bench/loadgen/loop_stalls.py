"""Event-loop stalls of a Debrief server over one phase, from its own /metrics.

The server times a timer of its own (server/debrief/loop_lag.py) and keeps how late it
woke in ``debrief_event_loop_lag_seconds``; the difference of that histogram between two
scrapes says how many stalls of each length fell in between. A build without it reads
as None (nothing to compare).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import httpx

METRIC = "debrief_event_loop_lag_seconds"
OVER_MS = (10, 25, 50)  # reported: stalls longer than each
_BUCKET = re.compile(rf'^{METRIC}_bucket{{le="([^"]+)"}} ([0-9.e+]+)$', re.M)
_COUNT = re.compile(rf"^{METRIC}_count ([0-9.e+]+)$", re.M)


def scrape(bases: Sequence[str]) -> dict[str, float] | None:
    """Cumulative counts by bucket bound (``"count"``: all), summed over ``bases``."""
    total: dict[str, float] = {}
    for base in bases:
        try:
            text = httpx.get(f"{base}/metrics", timeout=10).text
        except httpx.HTTPError:
            return None
        count = _COUNT.search(text)
        if count is None:
            return None
        total["count"] = total.get("count", 0.0) + float(count.group(1))
        for le, value in _BUCKET.findall(text):
            total[le] = total.get(le, 0.0) + float(value)
    return total


def stalls(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, int]:
    """Stalls longer than each of OVER_MS between two scrapes ({} when unknown)."""
    if before is None or after is None:
        return {}
    out: dict[str, int] = {}
    for ms in OVER_MS:
        le = repr(ms / 1000)
        if le not in after:
            continue
        within = after[le] - before.get(le, 0.0)
        out[str(ms)] = int(after["count"] - before.get("count", 0.0) - within)
    return out
