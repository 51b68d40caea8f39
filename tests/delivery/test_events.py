"""Every immediate event through a real server: the invite when a review is scheduled,
the recap to its recap-only recipients at close, each owner's actions, "done" to the
verifiers, and the webhooks. Mail goes to a real SMTP server (aiosmtpd), webhooks to a
real HTTP receiver; the team's delivery log says what was queued, so "nobody else got
it" is checked against everything the server queued, not a wait."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar

from support.delivery_sinks import (
    HttpSink,
    SmtpSink,
    add_person,
    email_on,
    emailed,
    link_of,
    settled,
    wait_for,
)
from support.delivery_sinks import mails_to as mails
from support.meeting import ROLES, Review
from support.server import ServerProcess
from support.teams import Team, new_team

LATER = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
START = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)


@pytest.fixture
def http(mail_http: httpx.AsyncClient) -> httpx.AsyncClient:
    return mail_http


@pytest.fixture
def receiver() -> Iterator[HttpSink]:
    with HttpSink() as sink:
        yield sink


async def review_in(server: ServerProcess, team: Team, title: str) -> Review:
    data = await team.ok("member", "POST", "/reviews", {"title": title})
    review = Review(server, data["id"], data["invites"], {}, team.http)
    for role in ROLES:
        review.people[role] = await review.join(role, f"{role.title()} Person")
    return review


async def test_each_event_reaches_the_right_people_only(
    mail_server: ServerProcess, http: httpx.AsyncClient, smtp: SmtpSink, receiver: HttpSink
) -> None:
    team = await new_team(http)
    hook = await team.ok("admin", "POST", "/webhooks", {"kind": "json", "url": receiver.url})
    assert hook
    await email_on(team)
    ann = await add_person(team, "Ann Attendee", "ann@example.org")
    bob = await add_person(team, "Bob Builder", "bob@example.org")
    cara = await add_person(team, "Cara Recap", "cara@example.org")
    dan = await add_person(team, "Dan Quiet", "dan@example.org")
    oscar = await add_person(team, "Oscar Other", "oscar@example.org")
    # Dan turned the recap off from his personal page.
    dan_link = await link_of(team, dan["id"])
    put = await http.put(f"/api/p/{dan_link}/prefs", json={"prefs": {"recap-published": False}})
    assert put.status_code == 200, put.text
    assert put.json()["prefs"]["recap-published"] is False

    first = await review_in(mail_server, team, "Checkout outage")
    other = await review_in(mail_server, team, "Search slowness")
    await other.ok("moderator", "PATCH", "", {"recap_recipients": [{"person_id": oscar["id"]}]})

    # --- scheduled: the attendees get the invite (.ics), nobody else
    patched = await first.ok("moderator", "PATCH", "", {
        "schedule": {"starts_at": START.isoformat(), "minutes": 45},
        "attendees": [ann["id"], bob["id"]],
        "recap_recipients": [{"person_id": cara["id"]}, {"person_id": dan["id"]},
                             {"email": "ext@partner.example", "name": "Partner"}],
    })  # fmt: skip
    assert patched["attendees"] == [ann["id"], bob["id"]]
    assert len(patched["recap_recipients"]) == 3
    seen = await first.ok("observer", "GET", "")
    assert "recap_recipients" not in seen  # addresses are not shown to every attendee
    await first.ok("moderator", "POST", "/status", {"status": "scheduled"})
    for who in ("ann@example.org", "bob@example.org"):
        (invite,) = await wait_for(lambda who=who: mails(smtp, who, "Review scheduled"))
        ics = invite.attachment("calendar")
        assert ics is not None
        event = next(iter(Calendar.from_ical(ics).walk("VEVENT")))
        assert event.decoded("dtstart") == START
        assert event.decoded("dtend") == START + timedelta(minutes=45)
        assert invite.message["List-Unsubscribe"]
    await wait_for(lambda: receiver.find(lambda h: h.body.get("event") == "review-scheduled"))

    # --- close: recap to the recap-only list; each owner their own actions
    await first.ok("moderator", "POST", "/status", {"status": "live"})
    mine = await first.ok("scribe", "POST", "/actions", {
        "what": "Add a second approver to deploys", "due": LATER, "owner_id": ann["id"],
        "verify": "The next two deploys show it in the release log",
        "kind": "preventive-control"})  # fmt: skip
    await first.ok("scribe", "POST", "/actions", {
        "what": "Page the database owner on disk alerts", "due": LATER, "owner_id": bob["id"],
        "verify": "A test alert pages the owner", "kind": "monitoring"})  # fmt: skip
    closed = await first.call("moderator", "POST", "/close", {})
    assert closed.status_code == 200, closed.text

    await wait_for(lambda: mails(smtp, "cara@example.org", "Recap: Checkout outage"))
    (external,) = await wait_for(lambda: mails(smtp, "ext@partner.example", "Recap:"))
    assert "Add a second approver to deploys" in external.text  # the recap itself
    (assigned,) = await wait_for(lambda: mails(smtp, "ann@example.org", "Yours from"))
    assert "Add a second approver" in assigned.text
    assert "Page the database owner" not in assigned.text  # Bob's, not hers
    await wait_for(lambda: mails(smtp, "bob@example.org", "Yours from"))
    await wait_for(lambda: receiver.find(lambda h: h.body.get("event") == "recap-published"))

    # --- done (by the owner, from her page): the other attendees are asked to verify
    gid = f"{first.id}.{mine['id']}"
    ann_link = await link_of(team, ann["id"])
    done = await http.post(f"/api/p/{ann_link}/actions/{gid}/status", json={
        "status": "done", "evidence": {"url": "https://deploys.example.com/1"}})  # fmt: skip
    assert done.status_code == 200, done.text
    (ask,) = await wait_for(lambda: mails(smtp, "bob@example.org", "Done, to verify"))
    assert "https://deploys.example.com/1" in ask.text
    hit = await wait_for(lambda: receiver.find(lambda h: h.body.get("event") == "action-done"))
    assert hit[0].body["data"]["action"]["gid"] == gid

    entries = await settled(team)
    assert emailed(entries, "review-scheduled") == ["ann@example.org", "bob@example.org"]
    # only this review's list, without Dan who opted out; Oscar's review never closed
    assert emailed(entries, "recap-published") == ["cara@example.org", "ext@partner.example"]
    assert emailed(entries, "action-assigned") == ["ann@example.org", "bob@example.org"]
    assert emailed(entries, "action-done") == ["bob@example.org"]
    assert not mails(smtp, "oscar@example.org", "")
    assert not mails(smtp, "dan@example.org", "")
    assert all(e["state"] == "sent" for e in entries), entries
    hooks = {e["event"] for e in entries if e["channel"].startswith("webhook:")}
    assert hooks == {"review-scheduled", "recap-published", "action-assigned", "action-done"}

    # Closing the other review sends its recap to Oscar, and only to him.
    await other.ok("moderator", "POST", "/status", {"status": "live"})
    closing = await other.call("moderator", "POST", "/close", {"reason": "nothing to act on"})
    assert closing.status_code == 200, closing.text
    (oscars,) = await wait_for(lambda: mails(smtp, "oscar@example.org", "Recap: Search"))
    entries = await settled(team)
    recaps = [e for e in entries if e["event"] == "recap-published" and e["channel"] == "email"]
    assert {to for e in recaps for to in e["to"]} == {
        "cara@example.org", "ext@partner.example", "oscar@example.org"}  # fmt: skip
    assert not mails(smtp, "cara@example.org", "Recap: Search")
    assert oscars.message["List-Unsubscribe"]
