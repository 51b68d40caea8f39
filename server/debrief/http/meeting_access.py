"""The app's one MeetingService, for the handlers that need it (review creation in
http/api.py, every meeting command in http/commands.py)."""

from __future__ import annotations

from starlette.requests import Request

from debrief.meeting.service import MeetingService
from debrief.meeting.signoffs import SignoffWatch
from debrief.services import services


def meeting_service(request: Request) -> MeetingService:
    """The app's MeetingService, created on first use."""
    state = request.app.state
    found: MeetingService | None = getattr(state, "meeting", None)
    svc = services(request)
    if found is None or found.storage is not svc.storage:
        hold = (svc.settings.hold_min_s, svc.settings.hold_max_s)
        found = state.meeting = MeetingService(svc.storage, svc.rooms, hold)
        found.on_review_saved = svc.teams.review_changed  # keeps the team's archive current
        # a recap changed after sign-offs: show who signed which wording
        svc.rooms.listeners.append(SignoffWatch(found).doc_changed)
    return found
