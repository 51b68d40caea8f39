"""iCalendar (RFC 5545) texts: a review's invite and the calendar feeds.

Pure: builds text from dicts, no I/O. Every event has a stable UID (the review's or the
action's id), so a calendar that already holds it replaces it on a reschedule instead
of adding a second one. Scheduled reviews are timed events in UTC; due dates are
all-day events (VEVENT, not VTODO: most calendar apps that subscribe to a feed ignore
to-dos).

The invite is sent with METHOD:PUBLISH ("add this to your calendar"), not REQUEST:
Debrief does not read RSVP replies, so it does not ask for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Debrief//Debrief reviews//EN"
INVITE_METHOD = "PUBLISH"  # send the invite as "text/calendar; method=PUBLISH"
MAX_MINUTES = 24 * 60
UID_DOMAIN = "debrief"


def review_uid(review_id: str) -> str:
    return f"review-{review_id}@{UID_DOMAIN}"


def action_uid(gid: str) -> str:
    return f"action-{gid}@{UID_DOMAIN}"


def review_link(base_url: str, review_id: str) -> str:
    """The review's page in the web app."""
    return f"{base_url.rstrip('/')}/r/{review_id}"


def schedule_of(review: Mapping[str, Any]) -> tuple[datetime, int] | None:
    """The review's start (aware, UTC) and length in minutes, or None when it has no
    usable schedule (``{"starts_at": ISO UTC, "minutes": int}``)."""
    schedule = review.get("schedule")
    if not isinstance(schedule, Mapping):
        return None
    starts_at, minutes = schedule.get("starts_at"), schedule.get("minutes")
    if not isinstance(starts_at, str) or isinstance(minutes, bool):
        return None
    if not isinstance(minutes, int) or not 0 < minutes <= MAX_MINUTES:
        return None
    try:
        start = datetime.fromisoformat(starts_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)  # stored as UTC; a missing offset means UTC
    return start.astimezone(UTC).replace(microsecond=0), minutes


def _calendar(name: str = "", method: str = "") -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("x-wr-calname", name)  # the name calendar apps show for a subscription
    return cal


def _stamp(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)


def review_event(
    review: Mapping[str, Any],
    base_url: str,
    *,
    now: datetime | None = None,
    sequence: int = 0,
) -> Event | None:
    """A timed event (UTC) for a scheduled review; None when it has no schedule."""
    found = schedule_of(review)
    if found is None:
        return None
    start, minutes = found
    review_id = str(review.get("id", ""))
    title = str(review.get("title") or "Review")
    link = review_link(base_url, review_id)
    lines = [f"Blameless review: {title}", f"Join from Debrief: {link}"]
    scope = review.get("scope")
    if isinstance(scope, Mapping):
        for label, key in (("What happened", "event"), ("The question", "question")):
            text = scope.get(key)
            if isinstance(text, str) and text.strip():
                lines.append(f"{label}: {text.strip()}")
    event = Event()
    event.add("uid", review_uid(review_id))
    event.add("dtstamp", _stamp(now))
    event.add("sequence", max(0, int(sequence)))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=minutes))
    event.add("summary", f"Review: {title}")
    event.add("description", "\n".join(lines))
    event.add("url", link)
    event.add("location", link)
    event.add("status", "CONFIRMED")
    return event


def invite_ics(
    review: Mapping[str, Any],
    organizer_name: str,
    base_url: str,
    *,
    organizer_email: str = "",
    attendees: Iterable[tuple[str, str]] = (),
    sequence: int = 0,
    now: datetime | None = None,
) -> str:
    """The .ics invite of a scheduled review (one VEVENT, METHOD:PUBLISH).

    ``attendees``: (name, email) pairs listed on the event. ``sequence`` should grow
    with each reschedule so calendars take the newer one. Raises ValueError when the
    review has no schedule.
    """
    event = review_event(review, base_url, now=now, sequence=sequence)
    if event is None:
        raise ValueError("this review has no schedule to invite to")
    if organizer_email:
        organizer = vCalAddress(f"mailto:{organizer_email}")
        if organizer_name:
            organizer.params["cn"] = vText(organizer_name)
        event.add("organizer", organizer)
    for name, email in attendees:
        if not email:
            continue
        attendee = vCalAddress(f"mailto:{email}")
        if name:
            attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=False)
    if organizer_name and not organizer_email:
        event.add("comment", f"Scheduled by {organizer_name}")
    cal = _calendar(method=INVITE_METHOD)
    cal.add_component(event)
    return str(cal.to_ical().decode("utf-8"))


def due_event(
    action: Mapping[str, Any], base_url: str, *, now: datetime | None = None
) -> Event | None:
    """An all-day event on an action's due date (index summary or action-state);
    None when it has no valid due date."""
    try:
        due = date.fromisoformat(str(action.get("due") or ""))
    except ValueError:
        return None
    gid = str(action.get("gid", ""))
    what = str(action.get("what") or "Action")
    owner = str(action.get("owner") or "")
    status = str(action.get("status") or "open")
    review_id = str(action.get("review_id") or "")
    link = f"{review_link(base_url, review_id)}/recap"
    lines = [what]
    if owner:
        lines.append(f"Owner: {owner}")
    lines.append(f"Status: {status}")
    if action.get("verify"):
        lines.append(f"How we will know it worked: {action['verify']}")
    if action.get("review_title"):
        lines.append(f"From the review: {action['review_title']}")
    lines.append(link)
    event = Event()
    event.add("uid", action_uid(gid))
    event.add("dtstamp", _stamp(now))
    event.add("dtstart", due)  # a date: an all-day event
    event.add("dtend", due + timedelta(days=1))
    event.add("summary", f"Due: {what}" + (f" ({owner})" if owner else ""))
    event.add("description", "\n".join(lines))
    event.add("url", link)
    event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    if action.get("kind"):
        event.add("categories", [str(action["kind"])])
    return event


def feed_ics(name: str, events: Iterable[Event | None]) -> str:
    """A calendar feed (subscription) of these events; None entries are skipped."""
    cal = _calendar(name=name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for event in events:
        if event is not None:
            cal.add_component(event)
    return str(cal.to_ical().decode("utf-8"))
