"""Insights across a team's closed reviews: GET /api/teams/{team_id}/insights.

Reads the team's digests of the period's whole months and edge days and its latest
timeline rows (teams/rollups.py), and nothing else: a few dozen index rows for any
period; learning/rollup.py merges them into the figures. The period is whole
UTC days; without one it is the last 90 days up to today (a rolling quarter: the page
always shows the latest reviews, also on the first day of a calendar quarter).
``figure=<name>`` answers one figure as a download, ``format=csv`` (default) or ``json``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.responses import Response

from debrief.http.errors import ApiError
from debrief.http.team_commands import TeamCall, TeamCommandSet
from debrief.learning import insights as ins
from debrief.learning import rollup
from debrief.storage.base import Storage
from debrief.teams import facts_store, rollups

api = TeamCommandSet("insights")

DEFAULT_DAYS = 90
# Per-review timeline rows in the answer: the latest of the period (the distribution and
# medians count every review; figure=timeline downloads them all).
TIMELINE_ROWS_SHOWN = 200
MAX_DAYS = 3 * 366 + 1  # a period longer than three years says nothing a chart can show
QUERY = {
    "since": f"first day, YYYY-MM-DD (UTC; default: {DEFAULT_DAYS - 1} days before until)",
    "until": "last day, YYYY-MM-DD (UTC; default: today)",
    "figure": f"answer one figure as a download: {', '.join(ins.FIGURES)}",
    "format": "with figure: csv (default) or json",
}


def today() -> date:
    return datetime.now(UTC).date()


def _day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(422, "invalid-query", f"{name} must be a date like 2026-01-31") from exc


def period(params: Any, now: date) -> tuple[date, date]:
    """The checked [since, until] of a request (see the module's docstring)."""
    until = _day(params.get("until"), "until") or now
    try:
        since = _day(params.get("since"), "since") or until - timedelta(days=DEFAULT_DAYS - 1)
    except OverflowError:  # until in the first days of year 1
        raise ApiError(422, "invalid-query", "until is too early for a period") from None
    if since > until:
        raise ApiError(422, "invalid-query", "since must be on or before until")
    if (until - since).days + 1 > MAX_DAYS:
        raise ApiError(422, "invalid-query", f"a period may be at most {MAX_DAYS} days long")
    return since, until


@api.command("GET", "/insights",
             "Figures across the team's reviews closed in a period: categories, "
             "follow-through, timeline; one figure as CSV or JSON", query=QUERY)  # fmt: skip
async def get_insights(call: TeamCall, body: None) -> Any:
    params = call.request.query_params
    figure, fmt = params.get("figure") or "", (params.get("format") or "csv").lower()
    if figure and figure not in ins.FIGURES:
        raise ApiError(422, "invalid-query", f"figure must be one of: {', '.join(ins.FIGURES)}")
    if fmt not in ("csv", "json"):
        raise ApiError(422, "invalid-query", "format must be csv or json")
    now = today()
    since, until = period(params, now)
    storage = call.svc.storage
    if figure == "timeline":  # every row of the period, not only the latest shown
        return download(await figures(storage, call.team_id, since, until, now, None), figure, fmt)
    key = (call.team_id, since, until, now)
    stamp = await facts_store.stamp(storage, call.team_id)  # before the data: see _touch
    kept = _KEPT.get(key)
    if kept is not None and kept[0] == stamp:
        found = kept[1]
    else:
        found = await figures(storage, call.team_id, since, until, now, TIMELINE_ROWS_SHOWN)
        _keep(key, stamp, found)
    if not figure:
        return found
    return download(found, figure, fmt)


async def figures(
    storage: Storage, team_id: str, since: date, until: date, now: date, rows: int | None
) -> dict[str, Any]:
    """The figures of [since, until] from the team's digests (see the module's docstring)."""
    whole, parts, shown = await rollups.read(storage, team_id, since, until, rows=rows)
    found = rollup.figures(whole, parts, shown, month_list=ins.months(since, until), today=now)
    return ins.with_period(found, since, until)


# Figures computed lately, per (team, since, until, today), with the team's stamp then:
# everyone on the team page asks for the same period, and the data changes seldom.
KEPT_MAX = 64
_KEPT: dict[tuple[str, date, date, date], tuple[str, dict[str, Any]]] = {}


def _keep(key: tuple[str, date, date, date], stamp: str, found: dict[str, Any]) -> None:
    _KEPT.pop(key, None)
    while len(_KEPT) >= KEPT_MAX:
        _KEPT.pop(next(iter(_KEPT)))  # the oldest kept
    _KEPT[key] = (stamp, found)


def download(found: dict[str, Any], figure: str, fmt: str) -> Response:
    columns, rows = ins.table(found, figure)
    period_ = found["period"]
    name = f"insights-{figure}-{period_['since']}-{period_['until']}.{fmt}"
    headers = {"content-disposition": f'attachment; filename="{name}"'}
    if fmt == "json":
        body = {"figure": figure, "period": period_, "columns": columns,
                "rows": [dict(zip(columns, r, strict=True)) for r in rows]}  # fmt: skip
        return Response(json.dumps(body), media_type="application/json", headers=headers)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


_FORMULA = re.compile(r"^[=+\-@\t\r]")


def _cell(value: Any) -> Any:
    """A CSV cell; text a spreadsheet would run as a formula gets a leading quote."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value
