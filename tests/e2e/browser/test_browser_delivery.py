"""Delivery in the browser: channels, invites, the recap to those who only need it.

A team admin points the team's email at a real SMTP server (aiosmtpd, started here) and
adds a signed JSON webhook pointing at a real HTTP receiver (started here, checking every
signature with the documented recipe). In Prepare the moderator sets a review's time,
its attendees and a recap-only recipient; marking it scheduled mails an invite with an
.ics; closing it mails the recap to the recap-only recipient and to nobody else. The
delivery log shows each message; a person turns an event off on their own page; the
unsubscribe link of a received mail works in a browser that has no session at all.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Page, expect
from test_browser_followup import Api, invites, new_review

from conftest import ROOT, SCREENSHOTS, People, Person
from support.server import ServerProcess, free_port

DOCS_VIEW = {"width": 1280, "height": 800}
TITLE = "Card payments declined during the Friday failover"
ACTION = "Rehearse the database failover every quarter with the payments team on call"
PEOPLE = {  # name -> address
    "Priya": "priya@example.org",
    "Jonas": "jonas@example.org",
    "Rosa": "rosa@example.org",  # only the recap
    "Sam": "sam@example.org",  # neither invited nor on the recap list
}
WAIT_S = 30.0


class Mailbox:
    """An aiosmtpd handler keeping every message it accepts; tests wait on its condition."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.changed:
            self.messages.append(([str(r).lower() for r in envelope.rcpt_tos], message))
            self.changed.notify_all()
        return "250 OK"

    def snapshot(self) -> list[tuple[list[str], EmailMessage]]:
        with self.changed:
            return list(self.messages)

    def wait_for(
        self, found: Callable[[list[tuple[list[str], EmailMessage]]], bool], what: str
    ) -> list[tuple[list[str], EmailMessage]]:
        deadline = time.monotonic() + WAIT_S
        with self.changed:
            while not found(self.messages):
                left = deadline - time.monotonic()
                assert left > 0, f"no mail: {what}; got {[m['Subject'] for _, m in self.messages]}"
                self.changed.wait(left)
            return list(self.messages)


def verified(secret: str, body: bytes, header: str, now: float) -> bool:
    """The receiver's check, as docs/webhooks.md words it: t within 5 minutes, and v1 the
    hex HMAC-SHA256 of "<t>." + the raw body under the secret."""
    fields = dict(part.strip().split("=", 1) for part in header.split(",") if "=" in part)
    t, v1 = fields.get("t", ""), fields.get("v1", "")
    if not t.isdigit() or abs(now - int(t)) > 300:
        return False
    mac = hmac.new(secret.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, v1)


class Receiver:
    """A real HTTP server taking webhook POSTs; it knows the secret once the admin has
    copied it from the page, and answers 401 to a request whose signature is wrong."""

    def __init__(self) -> None:
        self.secret = ""
        self.accepted: list[dict[str, Any]] = []
        self.refused = 0
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                good = bool(receiver.secret) and verified(
                    receiver.secret, body, self.headers.get("X-Debrief-Signature", ""), time.time()
                )
                with receiver.changed:
                    if good:
                        receiver.accepted.append(
                            {
                                "delivery": self.headers.get("X-Debrief-Delivery", ""),
                                "body": json.loads(body),
                            }
                        )
                    else:
                        receiver.refused += 1
                    receiver.changed.notify_all()
                self.send_response(204 if good else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}/debrief"

    def events(self) -> list[str]:
        with self.changed:
            return [a["body"].get("event", "") for a in self.accepted]

    def wait_for(self, event: str) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_S
        with self.changed:
            while True:
                for a in self.accepted:
                    if a["body"].get("event") == event:
                        return a
                left = deadline - time.monotonic()
                assert left > 0, f"no {event} webhook; got {self.events()}, {self.refused} refused"
                self.changed.wait(left)


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.http.shutdown()
        r.http.server_close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    """The server with quick delivery: the outbox looked at often, the scheduler every
    second."""
    env = {
        "DEBRIEF_DELIVERY_POLL_S": "0.5",
        "DEBRIEF_SCHEDULER_TICK_S": "1",
        "DEBRIEF_DELIVERY_RETRY_S": "1,2,4",
    }
    proc = ServerProcess(tmp_path / "data", env=env).start()
    try:
        yield proc
    finally:
        proc.stop()


def to_whom(messages: list[tuple[list[str], EmailMessage]], event: str) -> set[str]:
    """Every address that received a message of `event` (by its X-Debrief-Event header)."""
    return {r for rcpts, m in messages if m.get("X-Debrief-Event") == event for r in rcpts}


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def calendar_of(message: EmailMessage) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/calendar" or str(part.get_filename() or "").endswith(
            ".ics"
        ):
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    raise AssertionError(f"no .ics in {message['Subject']}")


def log_shot(admin: Person) -> None:
    """The docs' 1280x800 picture of the Delivery tab, its log in view (written when
    missing or on request, like the other docs screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / "screenshot-delivery.png"
    admin.page.locator("#delivery-log").evaluate("e => e.scrollIntoView({block: 'end'})")
    admin.page.screenshot(path=str(path))
    target = ROOT / "docs" / "screenshot-delivery.png"
    if not target.exists() or os.environ.get("DEBRIEF_UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copyfile(path, target)


def create_team(admin: Person) -> tuple[str, str]:
    page = admin.page
    page.goto("/")
    page.get_by_label("Team name").fill("Payments platform")
    page.get_by_label("Your name", exact=True).fill("Morgan")
    page.get_by_role("button", name="Create the team").click()
    expect(page.locator("[data-team-role='admin']")).to_be_visible()
    match = re.search(r"/t/([^/]+)$", page.url)
    assert match, page.url
    return page.url, match.group(1)


def set_channels(page: Page, team_url: str, smtp_port: int, receiver: Receiver) -> None:
    """The admin's Delivery tab: the team's own mail server, then a signed JSON webhook."""
    page.goto(team_url)
    page.get_by_role("link", name="Delivery", exact=True).click()
    page.get_by_label("Send email to the team\u2019s people").check()
    page.get_by_label("Sender address").fill("debrief@payments.example.org")
    page.get_by_label("Our own mail server").check()
    page.get_by_label("Server name").fill("127.0.0.1")
    page.get_by_label("Port").fill(str(smtp_port))
    page.get_by_label("Encrypt the connection (STARTTLS)").uncheck()  # a local test server
    page.get_by_role("button", name="Save email settings").click()
    expect(page.get_by_role("status").filter(has_text="Email settings saved.")).to_be_visible()

    page.get_by_label("Kind").select_option("json")
    page.get_by_label("Address (https://\u2026)").fill(receiver.url)
    page.get_by_role("button", name="Add the webhook").click()
    secret = page.get_by_role("textbox", name="Webhook signing secret")
    expect(secret).to_have_value(re.compile(r"\S{16,}"))
    receiver.secret = secret.input_value()
    hook = page.locator(".webhook", has_text=receiver.url)
    expect(hook).to_be_visible()
    # The secret shows once: after a reload only its webhook is listed.
    page.reload()
    expect(page.locator(".webhook", has_text=receiver.url)).to_be_visible()
    expect(page.get_by_role("textbox", name="Webhook signing secret")).to_have_count(0)
    assert receiver.secret not in page.content()


def test_reminders_recaps_and_unsubscribe(
    people: People,
    server: ServerProcess,
    mailbox: tuple[Mailbox, int],
    receiver: Receiver,
) -> None:
    box, smtp_port = mailbox
    admin = people.open("team-admin", viewport=DOCS_VIEW)
    page = admin.page
    team_url, team_id = create_team(admin)
    ids: dict[str, str] = {}
    for name, address in PEOPLE.items():
        added = admin.context.request.post(
            f"/api/teams/{team_id}/people",
            data={"name": name, "email": address},
            headers={"Origin": server.url},  # as the app's own requests carry it
        )
        assert added.ok, added.text()
        ids[name] = added.json()["id"]

    set_channels(page, team_url, smtp_port, receiver)
    page.locator(".webhook", has_text=receiver.url).get_by_role(
        "button", name="Send a test"
    ).click()
    receiver.wait_for("test")

    # Prepare: a time an hour from now, two attendees, one recap-only recipient.
    review_id = new_review(admin, team_url, TITLE, carry_over=False)
    panel = page.locator("#delivery")
    starts = (datetime.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    panel.get_by_label("Meeting starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    panel.get_by_label("Length in minutes").fill("45")
    attendees = panel.locator("[data-picker='attendees']")
    attendees.get_by_label("Priya").check()
    attendees.get_by_label("Jonas").check()
    panel.locator("[data-picker='recap-only']").get_by_label("Rosa").check()
    panel.get_by_role("button", name="Save schedule and recipients").click()
    expect(panel.get_by_role("status")).to_contain_text("Saved")
    page.reload()  # what is shown now is what the server kept
    expect(panel.locator("[data-picker='attendees']").get_by_label("Priya")).to_be_checked()
    expect(panel.locator("[data-picker='recap-only']").get_by_label("Rosa")).to_be_checked()
    expect(panel.locator("[data-picker='recap-only']").get_by_label("Sam")).not_to_be_checked()
    expect(panel.get_by_label("Length in minutes")).to_have_value("45")

    # Scheduling sends the invite (.ics) to the attendees, and only to them.
    page.get_by_role("button", name="Mark as scheduled").click()
    expect(page.locator("header [data-status='scheduled']")).to_be_visible()
    mails = box.wait_for(
        lambda ms: to_whom(ms, "review-scheduled") >= {PEOPLE["Priya"], PEOPLE["Jonas"]},
        "the invites",
    )
    assert to_whom(mails, "review-scheduled") == {PEOPLE["Priya"], PEOPLE["Jonas"]}
    invite = next(m for _, m in mails if m.get("X-Debrief-Event") == "review-scheduled")
    ics = calendar_of(invite)
    assert "BEGIN:VEVENT" in ics and TITLE.split()[0] in ics
    utc_start = starts.astimezone(UTC).strftime("%Y%m%dT%H%M00Z")
    assert utc_start in ics.replace("\r\n ", ""), (utc_start, ics)
    receiver.wait_for("review-scheduled")

    # The meeting runs over the API (covered elsewhere); one action goes to Jonas.
    api = Api(server, review_id, invites(admin, review_id)["moderator"])
    api("POST", "/status", {"status": "live"})
    due = (datetime.now(UTC).date() + timedelta(days=20)).isoformat()
    check = "The quarterly drill report lists a failover under five minutes"
    api("POST", "/actions", {"what": ACTION, "owner_id": ids["Jonas"], "due": due,
                             "verify": check, "kind": "preventive-control"})  # fmt: skip
    page.goto(f"/r/{review_id}/scribe")
    page.get_by_role("button", name="Close the meeting and freeze the recap").click()
    expect(page.locator("header [data-status='closed']")).to_be_visible()

    # The recap goes to the recap-only recipient and to nobody else.
    box.wait_for(lambda ms: bool(to_whom(ms, "recap-published")), "the recap")
    box.wait_for(lambda ms: bool(to_whom(ms, "action-assigned")), "the action to its owner")
    receiver.wait_for("recap-published")
    mails = box.snapshot()
    assert to_whom(mails, "recap-published") == {PEOPLE["Rosa"]}
    assert to_whom(mails, "action-assigned") == {PEOPLE["Jonas"]}
    assert PEOPLE["Sam"] not in {r for rcpts, _ in mails for r in rcpts}
    recap_mail = next(m for _, m in mails if m.get("X-Debrief-Event") == "recap-published")
    assert ACTION in text_of(recap_mail)

    # The delivery log shows each message and where it went.
    page.goto(team_url + "/delivery")
    log = page.locator(".delivery-log")
    for event in ("review-scheduled", "recap-published", "action-assigned"):
        expect(
            log.locator(
                f"tr[data-event='{event}'][data-channel='email'] [data-delivery-state='sent']"
            ).first
        ).to_be_visible()
    expect(log.locator("tr[data-event='recap-published'][data-channel='email']")).to_contain_text(
        PEOPLE["Rosa"]
    )
    hook_row = log.locator("tr[data-event='recap-published'][data-channel^='webhook:']")
    expect(hook_row.locator("[data-delivery-state='sent']")).to_be_visible()
    # Sent again on request: a second attempt, received a second time, signed again.
    expect(hook_row.get_by_role("button", name="1 attempt", exact=True)).to_be_visible()
    hook_row.get_by_role("button", name="Send again").click()
    expect(hook_row.get_by_role("button", name="2 attempts", exact=True)).to_be_visible()
    hook_row.get_by_role("button", name="2 attempts", exact=True).click()
    expect(hook_row.locator(".attempts li[data-ok='true']")).to_have_count(2)
    replays = [a for a in receiver.accepted if a["body"].get("event") == "recap-published"]
    assert len(replays) == 2 and replays[1]["body"]["replay"] == 1, replays
    assert receiver.refused == 0
    log_shot(admin)

    # Priya turns the weekly summary off on her own page; it stays off.
    page.goto(team_url + "/people")
    priya_link = page.get_by_role("textbox", name="Personal link of Priya").input_value()
    priya = people.open("priya", viewport=DOCS_VIEW)
    priya.page.goto(priya_link)
    digest = priya.page.locator("#my-prefs").get_by_label("A weekly summary of my open actions")
    expect(digest).to_be_checked()
    digest.uncheck()
    expect(priya.page.locator("#my-prefs").get_by_role("status")).to_contain_text("Saved")
    priya.page.reload()
    expect(
        priya.page.locator("#my-prefs").get_by_label("A weekly summary of my open actions")
    ).not_to_be_checked()
    expect(
        priya.page.locator("#my-prefs").get_by_label("The recap of a review is out")
    ).to_be_checked()
    expect(priya.page.get_by_role("textbox", name="My calendar address")).to_have_value(
        re.compile(r"/calendar\.ics$")
    )

    # Rosa's unsubscribe link, from the mail she received, in a browser with no session.
    link = re.search(r"https?://\S+/u/[A-Za-z0-9._~-]+", text_of(recap_mail))
    assert link, text_of(recap_mail)
    assert recap_mail.get("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    rosa = people.open("rosa-no-session")
    rosa.page.goto(link.group(0))
    expect(rosa.page.get_by_role("heading", name="Stop messages")).to_be_visible()
    rosa.page.get_by_role("button", name="Stop these messages").click()
    expect(rosa.page.locator("[data-unsubscribed]")).to_contain_text("no longer sends you")
    assert rosa.context.cookies() == []

    # Integrations: a token shown once, the team's calendar address, a tracker file.
    page.goto(team_url + "/integrations")
    page.get_by_label("What it is for").fill("incident bot")
    page.get_by_label("Also create reviews and post action progress").check()
    page.get_by_role("button", name="Make the token").click()
    token = page.get_by_role("textbox", name="New API token").input_value()
    assert token.startswith("dbt_"), token
    listed = httpx.get(
        f"{server.url}/api/teams/{team_id}/reviews",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert listed.status_code == 200 and TITLE in listed.text, listed.text
    page.get_by_role("button", name="Make a calendar address").click()
    feed = page.get_by_role("textbox", name="Team calendar address").input_value()
    calendar = httpx.get(feed, timeout=10)
    assert calendar.status_code == 200 and "BEGIN:VCALENDAR" in calendar.text, calendar.text
    with page.expect_download() as download:
        page.get_by_role("link", name="Download for Jira (CSV)").click()
    jira = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert ACTION in jira, jira
    page.reload()
    expect(page.locator(".token-row", has_text="incident bot")).to_be_visible()
    expect(page.get_by_role("textbox", name="New API token")).to_have_count(0)
    assert token not in page.content()
    page.get_by_role("button", name="Revoke the token incident bot").click()
    expect(page.locator(".token-row")).to_have_count(0)
    refused = httpx.get(
        f"{server.url}/api/teams/{team_id}/reviews",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert refused.status_code == 401, refused.text
    token = link.group(0).rsplit("/u/", 1)[1]
    answer = httpx.get(f"{server.url}/api/unsubscribe/{token}", timeout=10)
    assert answer.status_code == 200 and answer.json()["subscribed"] is False, answer.text
