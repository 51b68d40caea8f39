"""The time-based reminders through a real server whose scheduler ticks several times a
second: due soon, overdue, starting soon, the nudge for an unscheduled incident review,
the weekly digest; each exactly once however many ticks (and a restart) go by, and
none to a person who turned it off."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from support.delivery_sinks import (
    SmtpSink,
    add_person,
    email_on,
    emailed,
    link_of,
    mails_to,
    settled,
    wait_for,
)
from support.server import ServerProcess
from support.teams import Team, new_team, team_review

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def _started_now() -> None:
    """Days count from when the test starts, not from when pytest imported this module:
    a run that crosses midnight UTC in between would see "tomorrow" due today and the
    digest on the wrong day."""
    global NOW, TODAY
    NOW = datetime.now(UTC).replace(microsecond=0)
    TODAY = NOW.date()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def moment(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


def start(tmp_path: Path, smtp: SmtpSink, digest_day: int) -> ServerProcess:
    env = {
        **smtp.env(),
        "DEBRIEF_SCHEDULER_TICK_S": "0.2",
        "DEBRIEF_DELIVERY_POLL_S": "0.1",
        "DEBRIEF_DIGEST_DAY": str(digest_day),
        "DEBRIEF_DUE_SOON_DAYS": "3",
        "DEBRIEF_NUDGE_DAYS": "5",
        "DEBRIEF_START_SOON_MIN": "60",
    }
    return ServerProcess(tmp_path / "data", env=env).start()


def action(what: str, owner_id: str, due: str) -> dict[str, str]:
    return {"what": what, "owner_id": owner_id, "due": due, "kind": "monitoring",
            "verify": "The dashboard shows it for a week"}  # fmt: skip


async def test_reminders_once_each_to_the_right_people(tmp_path: Path, smtp: SmtpSink) -> None:
    # Not digest day yet: the digest comes after the restart, when the actions exist.
    server = start(tmp_path, smtp, digest_day=TODAY.isoweekday() % 7 + 1)
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            team = await new_team(http)
            await email_on(team)
            ann = await add_person(team, "Ann Owner", "ann@example.org")
            bob = await add_person(team, "Bob Quiet", "bob@example.org")
            cara = await add_person(team, "Cara Attendee", "cara@example.org")
            dan = await add_person(team, "Dan Draft", "dan@example.org")
            eve = await add_person(team, "Eve Later", "eve@example.org")
            bob_link = await link_of(team, bob["id"])
            off = await http.put(f"/api/p/{bob_link}/prefs",
                                 json={"prefs": {"action-overdue": False}})  # fmt: skip
            assert off.status_code == 200, off.text

            # Actions: due tomorrow, overdue (Ann's and Bob's), and one far away.
            first = await team_review(server, team, "Checkout outage")
            await first.ok("moderator", "POST", "/status", {"status": "live"})
            for body in (action("Alert on queue depth", ann["id"], day(1)),
                         action("Write the failover runbook", ann["id"], day(-1)),
                         action("Fix the retry storm", bob["id"], day(-2)),
                         action("Load test the new cluster", bob["id"], day(30))):  # fmt: skip
                await first.ok("scribe", "POST", "/actions", body)
            closed = await first.call("moderator", "POST", "/close",
                                      {"reason": "two were due before we met"})  # fmt: skip
            assert closed.status_code == 200, closed.text

            # A review starting in 20 minutes; an incident over 6 days ago with no date;
            # one over only 2 days ago (too early for a nudge).
            soon = await team_review(server, team, "Cache stampede")
            await soon.ok("moderator", "PATCH", "", {
                "schedule": {"starts_at": moment(timedelta(minutes=20)), "minutes": 30},
                "attendees": [cara["id"]]})  # fmt: skip
            await soon.ok("moderator", "POST", "/status", {"status": "scheduled"})
            for title, ended, who in (("Disk full", 6, dan), ("DNS flap", 2, eve)):
                draft = await team_review(server, team, title)
                await draft.ok("moderator", "PATCH", "", {
                    "scope": {"window_start": moment(timedelta(days=-ended, hours=-3)),
                              "window_end": moment(timedelta(days=-ended))},
                    "attendees": [who["id"]]})  # fmt: skip

            await wait_for(lambda: mails_to(smtp, "ann@example.org", "Due tomorrow"))
            await wait_for(lambda: mails_to(smtp, "ann@example.org", "Overdue"))
            (starting,) = await wait_for(lambda: mails_to(smtp, "cara@example.org", "Starting"))
            assert "Cache stampede" in starting.subject
            (nudge,) = await wait_for(lambda: mails_to(smtp, "dan@example.org", "Not scheduled"))
            assert "Disk full" in nudge.subject
    finally:
        server.stop()

    # A restart, on digest day: the reminders already queued are not queued again.
    server = start(tmp_path, smtp, digest_day=TODAY.isoweekday())
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            team = dataclasses.replace(team, http=http)
            # Something new for the scheduler to find proves it ticked after the restart.
            later = await team_review(server, team, "Queue backlog")
            await later.ok("moderator", "PATCH", "", {
                "scope": {"window_start": moment(timedelta(days=-9)),
                          "window_end": moment(timedelta(days=-8))},
                "attendees": [eve["id"]]})  # fmt: skip
            await wait_for(lambda: mails_to(smtp, "eve@example.org", "Not scheduled"))
            (digest,) = await wait_for(lambda: mails_to(smtp, "bob@example.org", "Your open"))
            assert "Fix the retry storm" in digest.text and "Load test" in digest.text
            assert "Alert on queue depth" not in digest.text  # Ann's
            await wait_for(lambda: mails_to(smtp, "ann@example.org", "Your open"))
            await check_once_each(team, smtp)
    finally:
        server.stop()


async def check_once_each(team: Team, smtp: SmtpSink) -> None:
    entries = await settled(team)
    assert emailed(entries, "action-due-soon") == ["ann@example.org"]
    assert emailed(entries, "action-overdue") == ["ann@example.org"]  # Bob turned it off
    assert emailed(entries, "review-starting") == ["cara@example.org"]
    assert emailed(entries, "review-nudge") == ["dan@example.org", "eve@example.org"]
    assert emailed(entries, "weekly-digest") == ["ann@example.org", "bob@example.org"]
    assert all(e["state"] == "sent" for e in entries)
    expected = (("ann@example.org", "Your open", 1), ("ann@example.org", "Overdue", 1),
                ("bob@example.org", "Overdue", 0), ("eve@example.org", "Not", 1),
                ("cara@example.org", "Starting", 1))  # fmt: skip
    for to, prefix, count in expected:
        assert len(mails_to(smtp, to, prefix)) == count, (to, prefix)
