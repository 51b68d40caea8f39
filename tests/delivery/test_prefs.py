"""People choose what they receive: preferences from their personal link, and the
unsubscribe link of every email, which works with no session at all (the API the page
/u/<token> uses, and the one-click POST of mail clients, RFC 8058)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

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
from support.teams import new_team, team_review

START = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)


def token_of(header: str) -> str:
    """The token of a List-Unsubscribe header: <http://host/u/<token>>."""
    return urlsplit(header.strip("<>")).path.rsplit("/", 1)[-1]


@pytest.fixture
def http(mail_http: httpx.AsyncClient) -> httpx.AsyncClient:
    return mail_http


async def test_prefs_from_the_personal_link(http: httpx.AsyncClient) -> None:
    team = await new_team(http)
    ann = await add_person(team, "Ann Attendee", "ann@example.org")
    code = await link_of(team, ann["id"])
    shown = (await http.get(f"/api/p/{code}/prefs")).json()
    assert shown["person"]["email"] == "ann@example.org"
    assert all(shown["prefs"].values()) and "weekly-digest" in shown["prefs"]
    assert {e["event"] for e in shown["events"]} == set(shown["prefs"])
    changed = await http.put(f"/api/p/{code}/prefs", json={"prefs": {"weekly-digest": False}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["prefs"]["weekly-digest"] is False
    assert changed.json()["prefs"]["action-overdue"] is True  # others keep theirs
    again = (await http.get(f"/api/p/{code}/prefs")).json()
    assert again["prefs"]["weekly-digest"] is False
    for body, status, error in (
        ({"prefs": {"tea-time": False}}, 422, "invalid"),
        ({"prefs": {"weekly-digest": "no"}}, 422, "invalid-fields"),
        ({"prefs": {"weekly-digest": True}, "more": 1}, 422, "invalid-fields"),
    ):
        refused = await http.put(f"/api/p/{code}/prefs", json=body)
        assert refused.status_code == status, refused.text
        assert refused.json()["error"] == error
    unknown = await http.get("/api/p/not-a-link/prefs")
    assert unknown.status_code == 404 and unknown.json()["error"] == "link-invalid"


async def test_unsubscribe_links_work_without_a_session(
    mail_server: ServerProcess, http: httpx.AsyncClient, smtp: SmtpSink
) -> None:
    team = await new_team(http)
    await email_on(team)
    ann = await add_person(team, "Ann Attendee", "ann@example.org")
    bob = await add_person(team, "Bob Builder", "bob@example.org")
    review = await team_review(mail_server, team, "Checkout outage")
    await review.ok("moderator", "PATCH", "", {
        "schedule": {"starts_at": START.isoformat(), "minutes": 30},
        "attendees": [ann["id"], bob["id"]],
        "recap_recipients": [{"email": "ext@partner.example", "name": "Partner"}],
    })  # fmt: skip
    await review.ok("moderator", "POST", "/status", {"status": "scheduled"})
    (invite,) = await wait_for(lambda: mails_to(smtp, "ann@example.org", "Review scheduled"))
    header = str(invite.message["List-Unsubscribe"])
    assert invite.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = token_of(header)
    assert f"/u/{token}" in invite.text  # the link is in the text too

    async with httpx.AsyncClient(base_url=mail_server.url) as stranger:  # no cookie, no token
        described = await stranger.get(f"/api/unsubscribe/{token}")
        assert described.status_code == 200, described.text
        assert described.json()["event"] == "review-scheduled"
        assert described.json()["subscribed"] is True and described.json()["who"] == "Ann Attendee"
        applied = await stranger.post(f"/api/unsubscribe/{token}")
        assert applied.status_code == 200 and applied.json()["subscribed"] is False
        assert (await stranger.get(f"/api/unsubscribe/{token}")).json()["subscribed"] is False
        tampered = await stranger.get(f"/api/unsubscribe/{token[:-2]}xx")
        assert tampered.status_code == 404 and tampered.json()["error"] == "link-invalid"
    prefs = (await http.get(f"/api/p/{await link_of(team, ann['id'])}/prefs")).json()["prefs"]
    assert prefs["review-scheduled"] is False and prefs["review-starting"] is True

    # A new date sends a new invite: to Bob, not to Ann who turned invites off.
    later = START + timedelta(days=1)
    await review.ok("moderator", "PATCH", "", {"schedule": {"starts_at": later.isoformat(),
                                                            "minutes": 30}})  # fmt: skip
    await wait_for(lambda: mails_to(smtp, "bob@example.org", "Review scheduled"), count=2)
    entries = await settled(team)
    assert emailed(entries, "review-scheduled") == [
        "ann@example.org", "bob@example.org", "bob@example.org"]  # fmt: skip

    # The recap-only address (no account at all) stops the recap with one click.
    await review.ok("moderator", "POST", "/status", {"status": "live"})
    closed = await review.call("moderator", "POST", "/close", {"reason": "nothing to act on"})
    assert closed.status_code == 200, closed.text
    (recap,) = await wait_for(lambda: mails_to(smtp, "ext@partner.example", "Recap:"))
    url = str(recap.message["List-Unsubscribe"]).strip("<>")
    async with httpx.AsyncClient() as mail_client:
        form = {"content-type": "application/x-www-form-urlencoded"}
        one_click = await mail_client.post(url, content=b"List-Unsubscribe=One-Click", headers=form)
    assert one_click.status_code == 200, one_click.text
    after = (await http.get(f"/api/unsubscribe/{token_of(url)}")).json()
    assert after == {"event": "recap-published", "what": after["what"],
                     "who": "ext@partner.example", "subscribed": False}  # fmt: skip
