"""Calendars: the invite of a scheduled review and the team's and a person's feeds, parsed
with the icalendar library; the feeds served by a real server at their secret URLs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import icalendar
import pytest

from debrief.delivery import ics
from support.server import ServerProcess
from support.teams import Team, new_team, team_review

BASE = "https://debrief.example.com"
REVIEW = {
    "id": "r_abc",
    "title": "Checkout outage, 3 Nov; part 2",
    "status": "scheduled",
    "schedule": {"starts_at": "2026-12-01T15:30:00Z", "minutes": 45},
    "scope": {"event": "Card payments failed for 40 minutes", "question": "Why so slow?"},
}


def events_of(text: str) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(text)
    found = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert len(found) == len(calendar.walk("VEVENT"))  # every UID once
    return found


def start_end(event: icalendar.Event) -> tuple[Any, Any]:
    return event.decoded("DTSTART"), event.decoded("DTEND")


# --- offline --------------------------------------------------------------------------


def test_invite_of_a_scheduled_review() -> None:
    text = ics.invite_ics(
        REVIEW,
        "Ada Admin",
        BASE,
        organizer_email="debrief@example.com",
        attendees=[("Priya N", "priya@example.com"), ("No address", "")],
        sequence=2,
    )
    calendar = icalendar.Calendar.from_ical(text)
    assert str(calendar["METHOD"]) == "PUBLISH" and str(calendar["VERSION"]) == "2.0"
    (event,) = calendar.walk("VEVENT")
    start, end = start_end(event)
    assert start == datetime(2026, 12, 1, 15, 30, tzinfo=UTC)
    assert end - start == timedelta(minutes=45) and start.utcoffset() == timedelta(0)
    assert str(event["UID"]) == "review-r_abc@debrief"
    assert str(event["SUMMARY"]) == "Review: Checkout outage, 3 Nov; part 2"
    assert int(event["SEQUENCE"]) == 2
    assert f"{BASE}/r/r_abc" in str(event["DESCRIPTION"]) and str(event["URL"]) == f"{BASE}/r/r_abc"
    assert "Card payments failed" in str(event["DESCRIPTION"])
    assert str(event["ORGANIZER"]) == "mailto:debrief@example.com"
    assert event["ORGANIZER"].params["CN"] == "Ada Admin"
    attendees = event["ATTENDEE"]
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["mailto:priya@example.com"]
    # the same review invited again keeps its UID: calendars update, not duplicate
    again = ics.invite_ics({**REVIEW, "schedule": {"starts_at": "2026-12-02T09:00:00+02:00",
                                                   "minutes": 30}}, "", BASE)  # fmt: skip
    (moved,) = icalendar.Calendar.from_ical(again).walk("VEVENT")
    assert str(moved["UID"]) == "review-r_abc@debrief"
    assert start_end(moved)[0] == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # in UTC
    with pytest.raises(ValueError):
        ics.invite_ics({**REVIEW, "schedule": None}, "Ada", BASE)


def test_due_dates_are_all_day_events() -> None:
    action = {"gid": "r_abc.a1", "review_id": "r_abc", "review_title": "Checkout outage",
              "what": "Alert on queue depth", "owner": "Omar K", "due": "2026-12-24",
              "verify": "a drill pages", "kind": "monitoring", "status": "open"}  # fmt: skip
    text = ics.feed_ics("Payments", [ics.due_event(action, BASE), ics.due_event({}, BASE)])
    calendar = icalendar.Calendar.from_ical(text)
    assert str(calendar["X-WR-CALNAME"]) == "Payments"
    event = events_of(text)["action-r_abc.a1@debrief"]
    start, end = start_end(event)
    assert start == date(2026, 12, 24) and not isinstance(start, datetime)
    assert end == date(2026, 12, 25)
    assert str(event["SUMMARY"]) == "Due: Alert on queue depth (Omar K)"
    assert f"{BASE}/r/r_abc/recap" in str(event["DESCRIPTION"])


# --- from a real server ---------------------------------------------------------------


async def calendar_at(http: httpx.AsyncClient, url: str) -> dict[str, icalendar.Event]:
    got = await http.get(url)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"].startswith("text/calendar")
    return events_of(got.text)


async def test_team_and_person_feeds(shared_server: ServerProcess, http: httpx.AsyncClient) -> None:
    team: Team = await new_team(http)
    priya = await team.ok("member", "POST", "/people", {"name": "Priya N"})
    today = datetime.now(UTC).date()
    soon, later = today + timedelta(days=5), today + timedelta(days=12)

    closed = await team_review(shared_server, team, "Disk full")
    await closed.ok("moderator", "POST", "/status", {"status": "live"})
    added = {}
    for what, owner, due in (("Page the disk owner", {"owner_id": priya["id"]}, soon),
                             ("Write the runbook", {"owner": "Omar K"}, later),
                             ("Drop the old cron", {"owner": "Omar K"}, None)):  # fmt: skip
        body = {"what": what, **owner, "verify": "a drill", "kind": "monitoring",
                "due": due.isoformat() if due else ""}  # fmt: skip
        added[what] = (await closed.ok("scribe", "POST", "/actions", body))["id"]
    assert (await closed.call("moderator", "POST", "/close", {"reason": "ok"})).status_code == 200
    gid = {what: f"{closed.id}.{action_id}" for what, action_id in added.items()}
    dropped = {"status": "wont-do", "reason": "moved to the platform team"}
    wont = await team.call("admin", "POST", f"/actions/{gid['Write the runbook']}/status", dropped)
    assert wont.status_code == 200, wont.text

    upcoming = await team_review(shared_server, team, "Search latency")
    starts = datetime.combine(today + timedelta(days=3), datetime.min.time(), UTC).replace(hour=14)
    await upcoming.ok("moderator", "PATCH", "", {
        "schedule": {"starts_at": starts.isoformat().replace("+00:00", "Z"), "minutes": 50},
        "attendees": [priya["id"]]})  # fmt: skip
    await upcoming.ok("moderator", "POST", "/status", {"status": "scheduled"})
    unscheduled = await team_review(shared_server, team, "No date yet")
    assert unscheduled.id

    # the admin turns the team's feed on; the URL needs no session
    assert (await team.ok("admin", "GET", "/feed")) == {"active": False, "created_ms": None}
    assert (await team.call("member", "POST", "/feed")).status_code == 403
    url = (await team.ok("admin", "POST", "/feed"))["url"]
    assert url.startswith(f"{shared_server.url}/api/feeds/teams/") and url.endswith(".ics")
    assert (await team.ok("admin", "GET", "/feed"))["active"] is True
    events = await calendar_at(http, url)
    review_uid = f"review-{upcoming.id}@debrief"
    assert set(events) == {review_uid, f"action-{gid['Page the disk owner']}@debrief"}
    start, end = start_end(events[review_uid])
    assert start == starts and end - start == timedelta(minutes=50)
    due_start, _ = start_end(events[f"action-{gid['Page the disk owner']}@debrief"])
    assert due_start == soon
    # stable: the same UIDs on the next read
    assert set(await calendar_at(http, url)) == set(events)

    # rotating kills the old URL; turning it off kills the new one
    fresh = (await team.ok("admin", "POST", "/feed"))["url"]
    assert fresh != url
    old = await http.get(url)
    assert old.status_code == 404 and old.json()["error"] == "feed-invalid"
    assert set(await calendar_at(http, fresh)) == set(events)
    assert (await team.ok("admin", "DELETE", "/feed")) == {"stopped": True}
    assert (await http.get(fresh)).status_code == 404

    # Priya's own feed: her action and the review she attends, nothing of Omar's
    people = (await team.ok("admin", "GET", "/people"))["people"]
    link = next(p["link"] for p in people if p["id"] == priya["id"])
    code = link.rsplit("/", 1)[-1]
    mine = await calendar_at(http, f"/api/p/{code}/calendar.ics")
    assert set(mine) == {review_uid, f"action-{gid['Page the disk owner']}@debrief"}
    omar = next(p for p in people if p["name"] == "Omar K")
    omar_code = omar["link"].rsplit("/", 1)[-1]
    theirs = await calendar_at(http, f"/api/p/{omar_code}/calendar.ics")
    assert set(theirs) == set()  # a won't-do and an undated action: nothing to show
    unknown = await http.get("/api/p/nope-not-a-code/calendar.ics")
    assert unknown.status_code == 404
