"""The recap (live draft or frozen version), its exports, and closing the meeting."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from debrief.delivery import events as delivery_events
from debrief.http import followup_api
from debrief.http.commands import ALL, MODERATOR, Call, CommandSet
from debrief.meeting import closing
from debrief.meeting import docdata as dd
from debrief.meeting import recap as rc
from debrief.meeting.errors import Conflict, ValidationError
from debrief.teams import facts_store

api = CommandSet("recap")

_FORMATS = {
    "markdown": ("text/markdown; charset=utf-8", "md", rc.to_markdown),
    "html": ("text/html; charset=utf-8", "html", rc.to_html),
    "json": ("application/json", "json", rc.to_json),
}
_ALIASES = {"md": "markdown"}


class CloseMeeting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(
        default="",
        max_length=2_000,
        description="needed when an action item still fails the lint; recorded in the recap",
    )


@api.command("GET", "/recap", "The recap as JSON: the live draft, or the frozen version",
             roles=ALL)  # fmt: skip
async def get_recap(call: Call, body: None) -> Any:
    return await closing.current_recap(call.meeting, call.review_id)


@api.command("GET", "/export", "Download the recap (a draft until the meeting closes)",
             roles=ALL, query={"format": "markdown (default), html or json"},
             response="text/markdown")  # fmt: skip
async def export(call: Call, body: None) -> Any:
    name = call.request.query_params.get("format", "markdown").lower()
    name = _ALIASES.get(name, name)
    if name not in _FORMATS:
        raise ValidationError(
            f"unknown export format {name!r}; choose markdown, html or json", field="format"
        )
    media, extension, render = _FORMATS[name]
    recap = await closing.current_recap(call.meeting, call.review_id)
    version = dd.record(recap.get("version"))
    suffix = f"v{dd.count(version.get('number'))}" if version else "draft"
    title = dd.text(recap.get("title"))[:200] or "review"
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    filename = f"{slug[:60] or 'review'}-{suffix}.{extension}"
    return Response(
        render(recap),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


@api.command("POST", "/close",
             "Close the meeting: freeze a version, make every doc read-only",
             roles=MODERATOR, body=CloseMeeting, exclusive=True)  # fmt: skip
async def close_meeting(call: Call, body: CloseMeeting) -> Any:
    try:
        final = await closing.close(call.meeting, call.review_id, body.reason)
    except Conflict as exc:
        if exc.error == "review-closed":  # a retried close: finish what the first one left
            await followup_api.index_review(call)
            await facts_store.record_closed(call.svc.storage, call.review_id)
        raise
    # The frozen wording is final; the actions' status lives on in the tracker from here.
    await followup_api.index_review(call)
    # What learning across reviews reads of this one (learning/facts.py).
    await facts_store.record_closed(call.svc.storage, call.review_id)
    await delivery_events.review_closed(call.svc, call.review_id)  # recap, owners' actions
    return {"status": "closed", "version": final["version"], "recap": final}
