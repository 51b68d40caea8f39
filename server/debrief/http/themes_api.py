"""Recurring themes and friction over HTTP, and the quarterly review built on them.

Team routes (members): the groups of a period's closed reviews with their counts, confirm
or split a group (the team's kept grouping, teams/theme_groups.py), and the friction
ranking. A quarterly review is a team review created with ``covers`` (POST
/api/teams/{t}/reviews, http/teams_api.py): it links the closed reviews it covers, gets
the "recurring-pattern" agenda whose phases walk their recurring themes up to the
highest-friction one, and every role of it reads the covered reviews' insights (GET
/api/reviews/{r}/insights) on its pre-read.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pycrdt import Doc, Map
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.requests import Request

from debrief.auth.roles import DocName
from debrief.http.commands import ALL, Call, CommandSet
from debrief.http.errors import ApiError
from debrief.http.team_commands import TeamCall, TeamCommandSet
from debrief.learning import insights as ins
from debrief.meeting import agenda as ag
from debrief.meeting.errors import Conflict, NotFound
from debrief.meeting.service import REVIEW, MeetingService, meeting_state
from debrief.storage.base import Storage
from debrief.teams import facts_store
from debrief.teams.keys import team_of
from debrief.teams.theme_groups import MAX_NAME, ThemeGroups, facts_between, facts_of

api = TeamCommandSet("themes")
review_api = CommandSet("review-insights")

QUARTER_DAYS = 90  # the default period: the 90 days up to today
MAX_COVERED = 500  # closed reviews one quarterly review may cover
MAX_REFS = 200
Ref = Annotated[str, Field(min_length=3, max_length=200)]
# A day as YYYY-MM-DD (a string, so the document bounds it; models check it is a date).
Day = Annotated[str, Field(min_length=10, max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")]
PERIOD = {
    "since": "closed on or after this day (YYYY-MM-DD, UTC; default: 90 days before until)",
    "until": "closed on or before this day (YYYY-MM-DD, UTC; default: today)",
}


class ConfirmThemes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refs: list[Ref] = Field(
        min_length=1, max_length=MAX_REFS, description="theme refs <review id>:<theme id>"
    )
    name: str = Field(default="", max_length=MAX_NAME, description="the group's name")
    group: str = Field(
        default="", max_length=40, description="add to this confirmed group, not a new one"
    )


class SplitThemes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    group: str = Field(
        min_length=1, max_length=40, description="a group id (confirmed or suggested)"
    )
    refs: list[Ref] = Field(min_length=1, max_length=MAX_REFS,
                            description="the themes that do not belong in this group")  # fmt: skip
    since: Day | None = Field(default=None, description="the period the group was shown for")
    until: Day | None = None

    @model_validator(mode="after")
    def real_days(self) -> SplitThemes:
        days(self.since, self.until)
        return self


class Covers(BaseModel):
    """The body field ``covers`` of POST /api/teams/{t}/reviews: the closed reviews a
    quarterly review looks back on, by id or by the period they closed in."""

    model_config = ConfigDict(extra="forbid")
    review_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=MAX_COVERED
    )
    since: Day | None = None
    until: Day | None = None

    @model_validator(mode="after")
    def one_form(self) -> Covers:
        since, until = days(self.since, self.until)
        by_ids = self.review_ids is not None
        by_period = self.since is not None or self.until is not None
        if by_ids == by_period:
            raise ValueError("covers takes either review_ids or since and until")
        if by_period and (self.since is None or self.until is None):
            raise ValueError("covers needs both since and until")
        if since and until and since > until:
            raise ValueError("since must not come after until")
        if by_ids and not self.review_ids:
            raise ValueError("review_ids must name at least one review")
        return self


def days(*raw: str | None) -> list[date | None]:
    """Each YYYY-MM-DD as a date (None stays None); ValueError for a day that is not one."""
    try:
        return [date.fromisoformat(day) if day else None for day in raw]
    except ValueError as exc:
        raise ValueError("since and until must be days like 2026-01-31") from exc


# --- periods --------------------------------------------------------------------------


def day_ms(day: date, end: bool = False) -> int:
    """The first (or last) millisecond of a UTC day."""
    moment = datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(422, "invalid-query", f"{name} must be a date like 2026-01-31") from exc


def period(since: date | None, until: date | None) -> tuple[date, date]:
    """The period asked for; by default the last quarter (90 days up to today, UTC)."""
    until = until or datetime.now(UTC).date()
    since = since or until - timedelta(days=QUARTER_DAYS)
    if since > until:
        raise ApiError(422, "invalid-query", "since must not come after until")
    return since, until


def query_period(request: Request) -> tuple[date, date]:
    params = request.query_params
    return period(parse_day(params.get("since"), "since"), parse_day(params.get("until"), "until"))


async def period_facts(storage: Storage, team_id: str, since: date, until: date) -> list[dict]:
    return await facts_between(storage, team_id, day_ms(since), day_ms(until, end=True))


def period_view(since: date, until: date) -> dict[str, str]:
    return {"since": since.isoformat(), "until": until.isoformat()}


# --- team routes ----------------------------------------------------------------------


@api.command("GET", "/themes", "Recurring themes of the period's closed reviews: confirmed "
             "and suggested groups with their reviews, votes and open actions",
             query=PERIOD)  # fmt: skip
async def list_themes(call: TeamCall, body: None) -> Any:
    since, until = query_period(call.request)
    facts = await period_facts(call.svc.storage, call.team_id, since, until)
    view = await ThemeGroups(call.svc.storage).view(call.team_id, facts)
    return {**period_view(since, until), **view}


@api.command("POST", "/themes/confirm", "Keep themes together as one group (new, or added "
             "to a confirmed group)", body=ConfirmThemes)  # fmt: skip
async def confirm_themes(call: TeamCall, body: ConfirmThemes) -> Any:
    group = await ThemeGroups(call.svc.storage).confirm(
        call.team_id, body.refs, body.name, body.group
    )
    return {"group": {k: group.get(k) for k in ("id", "name", "refs")}}


@api.command("POST", "/themes/split", "Take themes out of a group; they are not suggested "
             "together with the rest again", body=SplitThemes)  # fmt: skip
async def split_themes(call: TeamCall, body: SplitThemes) -> Any:
    groups = ThemeGroups(call.svc.storage)
    members: list[str] = []
    since, until = period(*days(body.since, body.until))
    facts = await period_facts(call.svc.storage, call.team_id, since, until)
    shown = (await groups.view(call.team_id, facts))["groups"]
    found = next((g for g in shown if g["id"] == body.group), None)
    if found is not None:
        members = [t["ref"] for t in (*found["themes"], *found["suggested"])]
    elif body.group.startswith("s-"):
        raise Conflict("this suggestion changed since it was shown; reload the themes",
                       error="stale-group")  # fmt: skip
    return await groups.split(call.team_id, body.group, body.refs, members)


@api.command("GET", "/friction", "Recurring themes ranked by friction (reviews, then votes, "
             "then actions not verified), each with the reason", query=PERIOD)  # fmt: skip
async def friction(call: TeamCall, body: None) -> Any:
    since, until = query_period(call.request)
    facts = await period_facts(call.svc.storage, call.team_id, since, until)
    view = await ThemeGroups(call.svc.storage).view(call.team_id, facts)
    return {**period_view(since, until), "friction": view["friction"]}


# --- the quarterly review -------------------------------------------------------------


async def covers_record(storage: Storage, team_id: str, covers: Covers) -> dict[str, Any]:
    """What the review record keeps of ``covers``: the covered review ids (resolved from
    the period when given by dates), each a closed review of this team."""
    if covers.review_ids is not None:
        ids = list(dict.fromkeys(covers.review_ids))
        found = {f["review_id"] for f in await facts_of(storage, team_id, ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"not a closed review of this team: {', '.join(missing[:5])}",
                           error="unknown-review")  # fmt: skip
        return {"review_ids": ids}
    since, until = days(covers.since, covers.until)
    assert since is not None and until is not None  # one_form checked it
    facts = await period_facts(storage, team_id, since, until)
    if not facts:
        raise Conflict("no review of this team closed in that period", error="nothing-covered")
    if len(facts) > MAX_COVERED:
        raise Conflict(f"a quarterly review covers at most {MAX_COVERED} reviews; "
                       "choose a shorter period", error="too-many-covered")  # fmt: skip
    return {**period_view(since, until),
            "review_ids": [f["review_id"] for f in facts]}  # fmt: skip


async def covered_view(storage: Storage, team_id: str, covers: dict[str, Any]) -> dict:
    """The covered reviews' facts and their recurring themes with friction."""
    facts = await facts_of(storage, team_id, covers.get("review_ids") or ())
    view = await ThemeGroups(storage).view(team_id, facts)
    return {"facts": facts, **view}


async def plan_quarterly(
    meeting: MeetingService, review_id: str, team_id: str, covers: dict[str, Any]
) -> None:
    """Give a new quarterly review its agenda: the recurring-pattern template walking the
    covered reviews' recurring themes to the highest-friction one (phase objectives name
    them). Keeps an open-actions phase the review already starts with."""
    view = await covered_view(meeting.storage, team_id, covers)
    ranked = [(str(r["name"]), str(r["reason"])) for r in view["friction"]]
    fresh = ag.recurring_pattern_agenda(ranked)

    def change(doc: Doc) -> None:
        current = ag.agenda_from_list(meeting_state(doc)["agenda"])
        room = doc.get("meeting", type=Map)
        room["agenda"] = ag.agenda_to_list(ag.keep_open_actions(current, fresh))
        room["template"] = ag.RECURRING_PATTERN

    await meeting.edit(review_id, DocName.ROOM, change)
    await meeting.review_saved(await meeting.review(review_id))  # its kind follows


@review_api.command("GET", "/insights", "The insights of the reviews a quarterly review "
                    "covers: the reviews, recurring themes and friction, and the figures",
                    roles=ALL)  # fmt: skip
async def review_insights(call: Call, body: None) -> Any:
    review = await call.svc.storage.get_record(REVIEW, call.review_id)
    covers = (review or {}).get("covers")
    if not isinstance(covers, dict):
        raise NotFound("this review covers no other reviews", error="no-covers")
    team_id = team_of(review or {})
    view = await covered_view(call.svc.storage, team_id, covers)
    facts = view.pop("facts")
    reviews = [
        {k: f.get(k) for k in ("review_id", "title", "closed_ms", "kind")}
        for f in sorted(facts, key=lambda f: (f.get("closed_ms") or 0, f.get("review_id")))
    ]
    return {
        **view,  # its count of reviews gives way to the list
        "covers": covers,
        "reviews": reviews,
        "figures": await figures_of(call.svc.storage, team_id, facts, covers),
    }


async def figures_of(
    storage: Storage, team_id: str, facts: list[dict], covers: dict[str, Any]
) -> dict | None:
    """The insights figures (categories, follow-through, timeline; learning/insights.py)
    of the covered reviews, over the covered period (or from the first to the last of
    them to close); None when none of them is left."""
    if not facts:
        return None
    closed = [int(f.get("closed_ms") or 0) for f in facts]
    actions = await facts_store.followed_in_range(storage, team_id, min(closed), max(closed))
    first, last = (
        datetime.fromtimestamp(ms / 1000, UTC).date() for ms in (min(closed), max(closed))
    )
    since = parse_day(covers.get("since"), "since") or first
    until = parse_day(covers.get("until"), "until") or last
    today = datetime.now(UTC).date()
    return ins.compute(facts, actions, since=since, until=until, today=today)
